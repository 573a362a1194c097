/// What matching a route's pattern against a path found.
public enum RoutePatternMatch: Sendable, Hashable {
    case matched
    case unmatched
    /// The engine gave up before it knew: a match, depth, heap or JIT stack limit ran out (the
    /// pattern backtracks without bound on this path). The route is treated as not matching.
    case abandoned
}
