/// One backend of one of a tool's patterns: requests whose path (after the tool's segment) matches
/// `pattern` may go to `backend`. A pattern with several routes (a webservice's replicas) is
/// balanced between their backends.
public struct Route: Sendable, Hashable, Codable {
    /// The route owner's key: a tool name, or any prefix that older tooling wrote into Redis.
    public var tool: String
    public var pattern: String
    public var backend: HostPort

    public init(tool: String, pattern: String, backend: HostPort) {
        self.tool = tool
        self.pattern = pattern
        self.backend = backend
    }

    /// The route every webservice registers: all of the tool's paths.
    public static let matchAll = ".*"
}
