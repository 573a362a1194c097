/// What the proxy does with `/TOOL/...` when the host does not name a tool. Every tool served
/// under one host shares one web origin: `DOMAIN/a/` reads `DOMAIN/b/`'s cookies and storage.
/// So with a real domain such a request is sent to the tool's own host, as Toolforge does.
public enum PathRouting: String, Sendable, Hashable, CaseIterable {
    /// `/TOOL/...` is served by TOOL (one origin for every tool): local demos, or on purpose.
    case serve
    /// `/TOOL/...` of a tool with routes is redirected to `https://TOOL.DOMAIN/...`.
    case redirect

    /// `redirect` for a DNS name; `serve` for `localhost`, `*.localhost` and IP addresses, whose
    /// tools' hosts a browser may not reach (and which only a developer's machine uses).
    public static func `default`(forDomain domain: String) -> PathRouting {
        isLocal(domain) ? .serve : .redirect
    }

    static func isLocal(_ domain: String) -> Bool {
        var name = domain.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        if name == "localhost" || name.hasSuffix(".localhost") { return true }
        // An IPv6 literal holds colons; an IPv4 one only digits and dots.
        if name.utf8.contains(UInt8(ascii: ":")) { return true }
        return !name.isEmpty && name.utf8.allSatisfy { $0 == UInt8(ascii: ".") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}
