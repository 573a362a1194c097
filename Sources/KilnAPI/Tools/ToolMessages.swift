import Hummingbird
import KilnCore

struct CreateToolRequest: Decodable, Sendable {
    var name: String
    var maintainers: [String]?
}

public struct ToolResponse: Codable, Sendable, ResponseEncodable {
    public var name: String
    public var maintainers: [String]
    public var unixUser: String?
    public var uid: UInt32?
    public var gid: UInt32?
    public var home: String
    public var createdAt: Double

    init(_ tool: Tool, home: String) {
        name = tool.name.rawValue
        maintainers = tool.maintainers
        unixUser = tool.unixUser?.name
        uid = tool.unixUser?.uid
        gid = tool.unixUser?.gid
        self.home = home
        createdAt = tool.createdAt
    }
}

public struct ToolListResponse: Codable, Sendable, ResponseEncodable {
    public var tools: [ToolResponse]
}

public struct CreateToolResponse: Codable, Sendable, ResponseEncodable {
    public var tool: ToolResponse
    public var token: String
    public var tokenFile: String
    /// What became of the webservice a moved-in home's service.manifest declares.
    public var webservice: String?
}

public struct DeleteToolResponse: Codable, Sendable, ResponseEncodable {
    public var deleted: String
    public var archivedHome: String?
}

public struct WhoAmIResponse: Codable, Sendable, ResponseEncodable {
    public var role: String
    public var tool: String?
}
