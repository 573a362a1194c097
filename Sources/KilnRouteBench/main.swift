import KilnCore

// Nanoseconds per route-pattern match, for bench/route-match.sh: one case per line,
// `NAME ns/match matched|unmatched`. A case name as the only argument runs that case alone (the
// script runs each case in its own process, under a timeout, since a backtracking engine may
// never finish the pathological ones).

struct MatchCase {
    let name: String
    let pattern: String
    let path: String
}

let pathological = "^/(a+)+$"
let cases = [
    MatchCase(name: "catch-all", pattern: ".*", path: "/some/page/of/the/tool"),
    MatchCase(name: "anchored-literal", pattern: "^/api/", path: "/api/v2/items/42"),
    MatchCase(name: "typical-regex", pattern: "^/api/v[0-9]+/", path: "/api/v2/items/42"),
    MatchCase(name: "pathological-30B", pattern: pathological, path: "/" + String(repeating: "a", count: 28) + "b"),
    MatchCase(name: "pathological-3000B", pattern: pathological, path: "/" + String(repeating: "a", count: 2998) + "b"),
]

/// Runs `body` (16 times a round) until `budget` has passed, and returns the mean time of one
/// run and whether the last one matched.
func measure(budget: Duration, _ body: () -> Bool) -> (nanoseconds: Double, matched: Bool) {
    let clock = ContinuousClock()
    var iterations = 0
    var matched = false
    let start = clock.now
    var elapsed = Duration.zero
    repeat {
        for _ in 0..<16 { matched = body() }
        iterations += 16
        elapsed = start.duration(to: clock.now)
    } while elapsed < budget
    let (seconds, attoseconds) = elapsed.components
    let nanoseconds = Double(seconds) * 1e9 + Double(attoseconds) / 1e9
    return (nanoseconds / Double(iterations), matched)
}

func report(_ name: String, _ body: () -> Bool) {
    _ = measure(budget: .milliseconds(100), body)  // warm-up
    let result = measure(budget: .seconds(1), body)
    print("\(name) \((result.nanoseconds * 10).rounded() / 10) \(result.matched ? "matched" : "unmatched")")
}

let selected = CommandLine.arguments.dropFirst().first
for matchCase in cases where selected == nil || selected == matchCase.name {
    let pattern = try RoutePattern(matchCase.pattern)
    let path = Substring(matchCase.path)
    report(matchCase.name) { pattern.matches(path) }
}
// A whole request's matching: a tool with the most patterns a tool may have, each pathological
// on the path (so only the per-request budget stops it), then a catch-all it never reaches.
if selected == nil || selected == "request-100-pathological" {
    let backend = HostPort(host: "127.0.0.1", port: 1)
    let patterns = (0..<RouteLimits.patternsPerTool - 1).map { "^/(a+)+$|^/never\($0)$" } + [".*"]
    let table = RouteTable(routes: patterns.map { Route(tool: "tool", pattern: $0, backend: backend) })
    let path = Substring("/tool/" + String(repeating: "a", count: 28) + "b")
    report("request-100-pathological") {
        if case .backend = table.resolve(host: nil, path: path, domain: "localhost") { return true }
        return false
    }
}
