import KilnCore

/// Where a tool's webservice is reached from the front page: `/TOOL/` on the platform's own host,
/// and `https://TOOL.DOMAIN/` when the deployment has a domain of its own (a DNS name, whose
/// tools' hosts a browser reaches; not `localhost` or an address).
public struct FrontPageLinks: Sendable, Hashable {
    public var domain: String
    /// The proxy's HTTPS port: named in host links unless it is 443 (or TLS ends in front).
    public var httpsPort: Int?

    public init(domain: String, httpsPort: Int?) {
        self.domain = domain
        self.httpsPort = httpsPort
    }

    /// Whether tools get a host of their own here.
    public var hasHostRoutes: Bool { PathRouting.default(forDomain: domain) == .redirect }

    /// `/TOOL/`; nil for a name that is no tool name (nothing a tool sent becomes an address).
    public func path(of tool: String) -> String? {
        ToolName.problem(with: tool) == nil ? "/\(tool)/" : nil
    }

    /// The tool's own host, as the link shows it (`TOOL.DOMAIN`).
    public func host(of tool: String) -> String? {
        guard hasHostRoutes, ToolName.problem(with: tool) == nil else { return nil }
        return "\(tool).\(domain)"
    }

    /// `https://TOOL.DOMAIN[:PORT]/`.
    public func hostURL(of tool: String) -> String? {
        guard let host = host(of: tool) else { return nil }
        guard let httpsPort, httpsPort != 443 else { return "https://\(host)/" }
        return "https://\(host):\(httpsPort)/"
    }
}
