/// The routes of every tool, as the proxy holds them in memory.
///
/// Lookup is one hash of the tool's key plus a walk over that tool's few routes, so it costs the
/// same for 10 tools as for 100,000.
public struct RouteTable: Sendable {
    /// The tool whose routes catch what no tool matched (the landing site).
    public static let fallbackTool = "admin"

    struct Entry: Sendable {
        var pattern: RoutePattern
        var backend: HostPort
    }

    private var entries: [String: [Entry]]

    public init() {
        entries = [:]
    }

    /// Builds a table; routes whose pattern does not compile are left out and returned.
    public init(routes: [Route]) {
        entries = [:]
        var grouped: [String: [Route]] = [:]
        for route in routes { grouped[route.tool, default: []].append(route) }
        for (tool, routes) in grouped { _ = replaceRoutes(of: tool, with: routes) }
    }

    public var toolCount: Int { entries.count }

    public var isEmpty: Bool { entries.isEmpty }

    /// Replaces all routes of `tool` (in order); an empty list removes the tool. Returns the routes
    /// that were refused because their pattern is not a valid regular expression.
    @discardableResult
    public mutating func replaceRoutes(of tool: String, with routes: [Route]) -> [KilnError] {
        var compiled: [Entry] = []
        var refused: [KilnError] = []
        compiled.reserveCapacity(routes.count)
        for route in routes {
            do {
                compiled.append(Entry(pattern: try RoutePattern(route.pattern), backend: route.backend))
            } catch {
                refused.append(error)
            }
        }
        entries[tool] = compiled.isEmpty ? nil : compiled
        return refused
    }

    /// Takes `tool`'s compiled routes from `other` (already compiled there).
    public mutating func replaceRoutes(of tool: String, with other: RouteTable) {
        entries[tool] = other.entries[tool]
    }

    public func routes(of tool: String) -> [Route] {
        (entries[tool] ?? []).map { Route(tool: tool, pattern: $0.pattern.source, backend: $0.backend) }
    }

    public var allRoutes: [String: [Route]] {
        var result: [String: [Route]] = [:]
        for tool in entries.keys { result[tool] = routes(of: tool) }
        return result
    }

    /// The backends of `tool` whose pattern matches `path`, in order.
    public func match(tool: Substring, path: Substring) -> HostPort? {
        guard let routes = entries[String(tool)] else { return nil }
        for entry in routes where entry.pattern.matches(path) { return entry.backend }
        return nil
    }

    /// Decides where a request goes, with the seed's semantics: host routing for `TOOL.DOMAIN`,
    /// else the first path segment names the tool; then the fallback tool against the whole path.
    public func resolve(host: Substring?, path: Substring, domain: String) -> RouteResolution {
        let path = Self.pathWithoutQuery(path)
        if let host, let tool = Self.toolFromHost(host, domain: domain) {
            if let backend = match(tool: tool, path: path.isEmpty ? "/" : path) {
                return .backend(backend, tool: String(tool))
            }
            if let backend = match(tool: Substring(Self.fallbackTool), path: path) {
                return .backend(backend, tool: Self.fallbackTool)
            }
            return .toolNotRunning(tool: String(tool))
        }
        let (segment, rest) = Self.splitToolSegment(path)
        if let segment, let backend = match(tool: segment, path: rest) {
            return .backend(backend, tool: String(segment))
        }
        if let backend = match(tool: Substring(Self.fallbackTool), path: path) {
            return .backend(backend, tool: Self.fallbackTool)
        }
        if let segment { return .toolNotRunning(tool: String(segment)) }
        return .notFound
    }

    /// `/TOOL/REST` → (`TOOL`, `/REST`); `/TOOL` → (`TOOL`, `/`); `/` → (nil, `/`).
    static func splitToolSegment(_ path: Substring) -> (Substring?, Substring) {
        guard path.first == "/" else { return (nil, path) }
        let afterSlash = path.dropFirst()
        if let slash = afterSlash.firstIndex(of: "/") {
            let segment = afterSlash[..<slash]
            return (segment.isEmpty ? nil : segment, afterSlash[slash...])
        }
        return (afterSlash.isEmpty ? nil : afterSlash, "/")
    }

    static func pathWithoutQuery(_ target: Substring) -> Substring {
        if let mark = target.firstIndex(where: { $0 == "?" || $0 == "#" }) { return target[..<mark] }
        return target
    }

    /// `tool.domain[:port]` → `tool`, case-insensitively; nil for any other host.
    static func toolFromHost(_ host: Substring, domain: String) -> Substring? {
        var name = host
        if let colon = name.lastIndex(of: ":"), !name.hasSuffix("]") { name = name[..<colon] }
        if name.hasSuffix(".") { name = name.dropLast() }
        guard name.utf8.count > domain.utf8.count + 1 else { return nil }
        let suffixStart = name.utf8.index(name.utf8.endIndex, offsetBy: -domain.utf8.count)
        let dotIndex = name.utf8.index(before: suffixStart)
        guard name.utf8[dotIndex] == UInt8(ascii: "."),
            name[suffixStart...].lowercased() == domain.lowercased()
        else { return nil }
        let label = name[..<dotIndex]
        guard !label.contains(".") else { return nil }
        return label.contains(where: \.isUppercase) ? Substring(label.lowercased()) : label
    }
}

/// Where the route table sends a request.
public enum RouteResolution: Sendable, Hashable {
    case backend(HostPort, tool: String)
    /// The path or host named a tool that has no matching route: 503, "not running".
    case toolNotRunning(tool: String)
    /// Nothing named a tool and the landing site has no route: 404.
    case notFound
}
