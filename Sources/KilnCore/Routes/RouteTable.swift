/// The routes of every tool, as the proxy holds them in memory.
///
/// Lookup is one hash of the tool's key plus a walk over that tool's few routes, so it costs the
/// same for 10 tools as for 100,000. Tools are spread over a fixed number of shards (by a cheap
/// hash of their key), so changing one tool of a table whose storage other copies share (each
/// event loop's copy) copies one shard, not every tool.
public struct RouteTable: Sendable {
    /// The tool whose routes catch what no tool matched (the landing site).
    public static let fallbackTool = "admin"

    /// One pattern of a tool and every backend registered for it.
    struct Entry: Sendable {
        var pattern: RoutePattern
        var backends: BackendGroup
    }

    static let shardCount = 64
    private var shards: [[String: [Entry]]]

    public init() {
        shards = Array(repeating: [:], count: Self.shardCount)
    }

    /// Builds a table; routes left out (see `replaceRoutes`) are left out silently.
    public init(routes: [Route]) {
        var refused: [KilnError] = []
        self.init(routes: routes, refused: &refused)
    }

    /// Builds a table; why routes were left out (see `replaceRoutes`) is added to `refused`.
    public init(routes: [Route], refused: inout [KilnError]) {
        self.init()
        var grouped: [String: [Route]] = [:]
        for route in routes { grouped[route.tool, default: []].append(route) }
        for (tool, routes) in grouped { refused += replaceRoutes(of: tool, with: routes) }
    }

    public var toolCount: Int { shards.reduce(0) { $0 + $1.count } }

    /// The tools that have routes.
    public var toolNames: some Sequence<String> { shards.lazy.flatMap(\.keys) }

    func entries(of tool: String) -> [Entry] { shards[Self.shard(of: tool)][tool] ?? [] }

    public var isEmpty: Bool { shards.allSatisfy(\.isEmpty) }

    /// Replaces all routes of `tool` (in order); an empty list removes the tool. Routes sharing a
    /// pattern become one entry, at the place of the pattern's first route, whose backends keep
    /// their order without repeats. Only the first `RouteLimits.patternsPerTool` patterns are
    /// taken (the others are not even compiled). Returns why routes were left out: each pattern
    /// that is too long or not a valid regular expression (once), and the patterns past the limit
    /// (once for all).
    @discardableResult
    public mutating func replaceRoutes(of tool: String, with routes: [Route]) -> [KilnError] {
        var compiled: [Entry] = []
        var refused: [KilnError] = []
        compiled.reserveCapacity(min(routes.count, RouteLimits.patternsPerTool))
        // Almost every tool has one route: look for an earlier entry of the pattern only when
        // there are several.
        var entryIndex: [String: Int] = [:]
        var refusedPatterns: Set<String> = []
        var skippedPatterns: Set<String> = []
        for route in routes {
            if routes.count > 1, let index = entryIndex[route.pattern] {
                compiled[index].backends.append(route.backend)
                continue
            }
            guard !refusedPatterns.contains(route.pattern), !skippedPatterns.contains(route.pattern) else { continue }
            guard compiled.count + refusedPatterns.count < RouteLimits.patternsPerTool else {
                skippedPatterns.insert(route.pattern)
                continue
            }
            do {
                let pattern = try RoutePattern(route.pattern)
                if routes.count > 1 { entryIndex[route.pattern] = compiled.count }
                compiled.append(Entry(pattern: pattern, backends: BackendGroup(route.backend)))
            } catch {
                refusedPatterns.insert(route.pattern)
                var error = error
                error.context["tool"] = tool
                refused.append(error)
            }
        }
        if !skippedPatterns.isEmpty {
            refused.append(Self.tooManyPatterns(tool: tool, skipped: skippedPatterns.count))
        }
        shards[Self.shard(of: tool)][tool] = compiled.isEmpty ? nil : compiled
        return refused
    }

    static func tooManyPatterns(tool: String, skipped: Int) -> KilnError {
        KilnError(
            .quotaExceeded,
            "tool '\(tool)' has more than \(RouteLimits.patternsPerTool) route patterns, the most a tool may have: "
                + "its patterns after the first \(RouteLimits.patternsPerTool) (\(skipped)) are not routed",
            context: ["tool": tool, "field": "pattern", "limit": "\(RouteLimits.patternsPerTool) patterns"])
    }

    /// Takes `tool`'s compiled routes from `other` (already compiled there).
    public mutating func replaceRoutes(of tool: String, with other: RouteTable) {
        let shard = Self.shard(of: tool)
        shards[shard][tool] = other.shards[shard][tool]
    }

    /// The tool's routes, one per backend, grouped by pattern in the table's order.
    public func routes(of tool: String) -> [Route] {
        entries(of: tool).flatMap { entry in
            entry.backends.backends.map { Route(tool: tool, pattern: entry.pattern.source, backend: $0) }
        }
    }

    public var allRoutes: [String: [Route]] {
        var result: [String: [Route]] = [:]
        for tool in toolNames { result[tool] = routes(of: tool) }
        return result
    }

    /// The backends of `tool`'s first pattern that matches `path`. A pattern whose match is
    /// abandoned at a limit does not match (and is counted in `PatternLimitHits.shared`).
    ///
    /// Each match is bounded by the engine's limits; the request as a whole by
    /// `RouteLimits.matchTimePerRequest`: a tool with many patterns that each backtrack just short
    /// of the limit would otherwise hold an event loop (and every connection on it) for the sum.
    /// Past the budget the remaining patterns are not tried and the request matches none of them.
    public func match(tool: Substring, path: Substring) -> BackendGroup? {
        let key = String(tool)
        guard let routes = shards[Self.shard(of: tool)][key] else { return nil }
        // Almost every request matches its tool's first pattern, which needs no clock.
        var budget: MatchBudget? = nil
        for (index, entry) in routes.enumerated() {
            switch entry.pattern.match(path) {
            case .matched:
                return entry.backends
            case .unmatched:
                break
            case .abandoned:
                PatternLimitHits.shared.record(tool: key, pattern: entry.pattern.source)
            }
            guard index + 1 < routes.count else { break }
            if budget == nil {
                budget = MatchBudget(RouteLimits.matchTimePerRequest)
            } else if budget?.isSpent == true {
                PatternLimitHits.shared.record(tool: key, pattern: routes[index + 1].pattern.source)
                return nil
            }
        }
        return nil
    }

    /// The shard of a tool's key: FNV-1a over its UTF-8 bytes, a few nanoseconds for a name. It
    /// only spreads names: names crowded into one shard make its copies larger, never a lookup
    /// slower (a shard is a Dictionary, seeded per process).
    static func shard(of tool: some StringProtocol) -> Int {
        var hash: UInt32 = 2_166_136_261
        for byte in tool.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int(hash % UInt32(shardCount))
    }

    /// Whether `tool` has any route.
    func hasRoutes(tool: Substring) -> Bool { shards[Self.shard(of: tool)][String(tool)] != nil }

    /// Decides where a request goes, with the seed's semantics: host routing for `TOOL.DOMAIN`,
    /// else the first path segment names the tool (served, or with `.redirect` sent to the tool's
    /// own host when it has routes); then the fallback tool against the whole path. The root of
    /// a host that names no tool is the platform's front page, whatever any tool's routes say.
    public func resolve(
        host: Substring?, path target: Substring, domain: String, pathRouting: PathRouting = .serve
    ) -> RouteResolution {
        let path = Self.pathWithoutQuery(target)
        if let host, let tool = Self.toolFromHost(host, domain: domain) {
            if let group = match(tool: tool, path: path.isEmpty ? "/" : path) {
                return .backend(group, tool: String(tool))
            }
            if let group = match(tool: Substring(Self.fallbackTool), path: path) {
                return .backend(group, tool: Self.fallbackTool)
            }
            return .toolNotRunning(tool: String(tool))
        }
        let (segment, rest) = Self.splitToolSegment(path)
        if let segment {
            switch pathRouting {
            case .serve:
                if let group = match(tool: segment, path: rest) { return .backend(group, tool: String(segment)) }
            case .redirect:
                // The tool's host decides from there (its patterns, then the fallback), as it would here.
                if hasRoutes(tool: segment) {
                    return .toolOrigin(tool: String(segment), target: Self.target(of: target, after: segment))
                }
            }
        }
        // Only a path without a tool segment gets here: the check costs routed requests nothing.
        if segment == nil, path.utf8.count == 1, path.utf8.first == UInt8(ascii: "/") { return .frontPage }
        if let group = match(tool: Substring(Self.fallbackTool), path: path) {
            return .backend(group, tool: Self.fallbackTool)
        }
        if let segment { return .toolNotRunning(tool: String(segment)) }
        return .notFound
    }

    // These run on every request: they walk UTF-8 bytes, never Characters, and allocate nothing
    // for the common (lower-case ASCII) names.

    /// `/TOOL/REST` → (`TOOL`, `/REST`); `/TOOL` → (`TOOL`, `/`); `/` → (nil, `/`).
    static func splitToolSegment(_ path: Substring) -> (Substring?, Substring) {
        guard path.utf8.first == UInt8(ascii: "/") else { return (nil, path) }
        let afterSlash = path[path.utf8.index(after: path.startIndex)...]
        if let slash = afterSlash.utf8.firstIndex(of: UInt8(ascii: "/")) {
            let segment = afterSlash[..<slash]
            return (segment.isEmpty ? nil : segment, afterSlash[slash...])
        }
        return (afterSlash.isEmpty ? nil : afterSlash, "/")
    }

    /// What follows `/TOOL` in `target` (path and query), as a target of its own: `/TOOL` and
    /// `/TOOL?q` become `/` and `/?q`.
    static func target(of target: Substring, after segment: Substring) -> String {
        let rest = target.utf8.dropFirst(1 + segment.utf8.count)
        guard let first = rest.first else { return "/" }
        return first == UInt8(ascii: "/") ? String(Substring(rest)) : "/" + String(Substring(rest))
    }

    static func pathWithoutQuery(_ target: Substring) -> Substring {
        if let mark = target.utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) {
            return target[..<mark]
        }
        return target
    }

    /// `tool.domain[:port]` → `tool`, case-insensitively; nil for any other host.
    static func toolFromHost(_ host: Substring, domain: String) -> Substring? {
        var name = host
        if name.utf8.last != UInt8(ascii: "]"), let colon = name.utf8.lastIndex(of: UInt8(ascii: ":")) { name = name[..<colon] }
        if name.utf8.last == UInt8(ascii: ".") { name = name[..<name.utf8.index(before: name.endIndex)] }
        guard name.utf8.count > domain.utf8.count + 1 else { return nil }
        let suffixStart = name.utf8.index(name.utf8.endIndex, offsetBy: -domain.utf8.count)
        let dotIndex = name.utf8.index(before: suffixStart)
        guard name.utf8[dotIndex] == UInt8(ascii: "."),
            name.utf8[suffixStart...].elementsEqual(domain.utf8, by: { $0.asciiLowercased == $1.asciiLowercased })
        else { return nil }
        let label = name[..<dotIndex]
        guard !label.utf8.contains(UInt8(ascii: ".")) else { return nil }
        if label.utf8.contains(where: { $0 >= 0x80 || ($0 >= 0x41 && $0 <= 0x5A) }) { return Substring(label.lowercased()) }
        return label
    }
}

extension UInt8 {
    fileprivate var asciiLowercased: UInt8 { self >= 0x41 && self <= 0x5A ? self | 0x20 : self }
}

/// Where the route table sends a request.
public enum RouteResolution: Sendable, Hashable {
    /// The request goes to one of these backends (the proxy balances between them).
    case backend(BackendGroup, tool: String)
    /// The path named a tool that has routes while path routing redirects: the request goes to
    /// the tool's own origin, `TOOL.DOMAIN`, at `target` (the rest of the path, and the query).
    case toolOrigin(tool: String, target: String)
    /// The path or host named a tool that has no matching route: 503, "not running".
    case toolNotRunning(tool: String)
    /// `/` on a host that names no tool: the platform's page of tools, never a tool's.
    case frontPage
    /// Nothing named a tool and the landing site has no route: 404.
    case notFound
}
