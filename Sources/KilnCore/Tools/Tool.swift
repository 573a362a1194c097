/// A tool account: the unit of ownership on the platform.
public struct Tool: Sendable, Hashable, Codable {
    public var name: ToolName
    /// The people who may act for the tool (their user names on the platform).
    public var maintainers: [String]
    /// The Unix account that runs the tool's processes, when the platform manages Unix users.
    public var unixUser: UnixIdentity?
    /// Seconds since 1970, UTC.
    public var createdAt: Double

    public init(name: ToolName, maintainers: [String], unixUser: UnixIdentity?, createdAt: Double) {
        self.name = name
        self.maintainers = maintainers
        self.unixUser = unixUser
        self.createdAt = createdAt
    }
}

/// A Unix user and its primary group.
public struct UnixIdentity: Sendable, Hashable, Codable {
    public var name: String
    public var uid: UInt32
    public var gid: UInt32

    public init(name: String, uid: UInt32, gid: UInt32) {
        self.name = name
        self.uid = uid
        self.gid = gid
    }
}
