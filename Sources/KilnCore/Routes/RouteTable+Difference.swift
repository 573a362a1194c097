/// What a full snapshot changes in a route table: the tools whose routes differ, and the tools
/// it no longer has. A periodic resync that finds everything as it was changes nothing, so it
/// neither builds a second table of every tool nor disturbs what the proxy learned of backends.
public struct RouteTableDifference: Sendable {
    public var changed: [(tool: String, routes: [Route])] = []
    public var removed: [String] = []

    public var isEmpty: Bool { changed.isEmpty && removed.isEmpty }
}

extension RouteTable {
    /// The difference between this table and `routes`; nil when `routes` does not list each
    /// tool's routes together (then only a rebuild can tell).
    public func difference(to routes: [Route]) -> RouteTableDifference? {
        var difference = RouteTableDifference()
        var seen = Set<String>(minimumCapacity: toolCount)
        var start = routes.startIndex
        while start < routes.endIndex {
            let tool = routes[start].tool
            var end = start + 1
            while end < routes.endIndex, routes[end].tool == tool { end += 1 }
            guard seen.insert(tool).inserted else { return nil }
            if !hasRoutes(of: tool, equalTo: routes[start..<end]) {
                difference.changed.append((tool, Array(routes[start..<end])))
            }
            start = end
        }
        for tool in toolNames where !seen.contains(tool) { difference.removed.append(tool) }
        return difference
    }

    /// Whether the tool's routes, one per backend in the table's order, are exactly `routes` (as
    /// far as the limits let them in: a resync finds routes past them unchanged, not new).
    func hasRoutes(of tool: String, equalTo routes: ArraySlice<Route>) -> Bool {
        let routes = Self.withinLimits(routes)
        var index = routes.startIndex
        for entry in entries(of: tool) {
            for backend in entry.backends.backends {
                guard index < routes.endIndex, routes[index].pattern == entry.pattern.source, routes[index].backend == backend
                else { return false }
                index += 1
            }
        }
        return index == routes.endIndex
    }
}

extension RouteTable {
    /// `routes` without those `replaceRoutes` leaves out before compiling: patterns longer than
    /// `RouteLimits.patternBytes`, and every pattern after the tool's first
    /// `RouteLimits.patternsPerTool`. The slice itself when that is none, as it nearly always is.
    static func withinLimits(_ routes: ArraySlice<Route>) -> ArraySlice<Route> {
        guard routes.count > RouteLimits.patternsPerTool
            || routes.contains(where: { $0.pattern.utf8.count > RouteLimits.patternBytes })
        else { return routes }
        var patterns: Set<String> = []
        var kept: [Route] = []
        for route in routes {
            if !patterns.contains(route.pattern) {
                guard patterns.count < RouteLimits.patternsPerTool else { continue }
                patterns.insert(route.pattern)
            }
            if route.pattern.utf8.count <= RouteLimits.patternBytes { kept.append(route) }
        }
        return kept[...]
    }
}
