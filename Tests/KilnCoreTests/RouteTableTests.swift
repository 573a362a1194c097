import KilnCore
import Testing

@Suite struct RouteTableTests {
    let one = HostPort(host: "127.0.0.1", port: 1)
    let two = HostPort(host: "127.0.0.1", port: 2)
    let landing = HostPort(host: "127.0.0.1", port: 9)

    func table(_ routes: [(String, String, HostPort)]) -> RouteTable {
        RouteTable(routes: routes.map { Route(tool: $0.0, pattern: $0.1, backend: $0.2) })
    }

    @Test func pathRoutingMatchesTheRestOfThePath() {
        let routes = table([("tool", ".*", one)])
        #expect(routes.resolve(host: nil, path: "/tool/a/b?c=d", domain: "localhost") == .backend(BackendGroup(one), tool: "tool"))
        #expect(routes.resolve(host: nil, path: "/tool", domain: "localhost") == .backend(BackendGroup(one), tool: "tool"))
        #expect(routes.resolve(host: nil, path: "/tool/", domain: "localhost") == .backend(BackendGroup(one), tool: "tool"))
    }

    @Test func theFirstMatchingPatternWins() {
        let routes = table([("tool", "^/api", two), ("tool", ".*", one), ("tool", "^/late", two)])
        #expect(routes.resolve(host: nil, path: "/tool/api/v1", domain: "d") == .backend(BackendGroup(two), tool: "tool"))
        #expect(routes.resolve(host: nil, path: "/tool/late", domain: "d") == .backend(BackendGroup(one), tool: "tool"))
        #expect(routes.resolve(host: nil, path: "/tool", domain: "d") == .backend(BackendGroup(one), tool: "tool"))
    }

    @Test func regexPatternsAreSearchedInThePath() {
        let routes = table([("tool", "\\.php$", two), ("tool", "^/static/", one)])
        #expect(routes.resolve(host: nil, path: "/tool/x/index.php", domain: "d") == .backend(BackendGroup(two), tool: "tool"))
        #expect(routes.resolve(host: nil, path: "/tool/x/index.php?x=1", domain: "d") == .backend(BackendGroup(two), tool: "tool"))
        #expect(routes.resolve(host: nil, path: "/tool/static/a.css", domain: "d") == .backend(BackendGroup(one), tool: "tool"))
        #expect(routes.resolve(host: nil, path: "/tool/other", domain: "d") == .toolNotRunning(tool: "tool"))
    }

    @Test func hostRoutingUsesTheWholePath() {
        let routes = table([("tool", "^/$", one)])
        #expect(routes.resolve(host: "tool.example.org", path: "/", domain: "example.org") == .backend(BackendGroup(one), tool: "tool"))
        #expect(routes.resolve(host: "TOOL.Example.Org:8443", path: "/", domain: "example.org") == .backend(BackendGroup(one), tool: "tool"))
        #expect(routes.resolve(host: "tool.example.org.", path: "/", domain: "example.org") == .backend(BackendGroup(one), tool: "tool"))
        // Not a direct subdomain, or the bare domain: path routing (`/tool/x` does not match `^/$`).
        #expect(routes.resolve(host: "a.tool.example.org", path: "/tool/x", domain: "example.org") == .toolNotRunning(tool: "tool"))
        #expect(routes.resolve(host: "example.org", path: "/tool/", domain: "example.org") == .backend(BackendGroup(one), tool: "tool"))
        #expect(routes.resolve(host: "missing.example.org", path: "/", domain: "example.org") == .toolNotRunning(tool: "missing"))
    }

    @Test func theAdminToolIsTheFallbackAgainstTheWholePath() {
        let routes = table([("tool", "^/only", one), ("admin", "^/(|about|nothere/.*)$", landing)])
        #expect(routes.resolve(host: nil, path: "/about", domain: "d") == .backend(BackendGroup(landing), tool: "admin"))
        #expect(routes.resolve(host: nil, path: "/nothere/x", domain: "d") == .backend(BackendGroup(landing), tool: "admin"))
        #expect(routes.resolve(host: nil, path: "/tool/else", domain: "d") == .toolNotRunning(tool: "tool"))
        #expect(table([]).resolve(host: nil, path: "/", domain: "d") == .frontPage)
        #expect(table([]).resolve(host: nil, path: "*", domain: "d") == .notFound)
        #expect(table([]).resolve(host: nil, path: "/x/", domain: "d") == .toolNotRunning(tool: "x"))
    }

    @Test func pathRoutingRedirectsAToolWithRoutesToItsOwnOrigin() {
        let routes = table([("tool", "^/only", one), ("admin", "^/(|about|nothere/.*)$", landing)])
        func resolve(_ path: Substring, host: Substring? = "example.org") -> RouteResolution {
            routes.resolve(host: host, path: path, domain: "example.org", pathRouting: .redirect)
        }
        // The rest of the path and the query are kept; whether the tool's patterns match is for
        // its own host to say.
        #expect(resolve("/tool/x?y=1") == .toolOrigin(tool: "tool", target: "/x?y=1"))
        #expect(resolve("/tool/only/a/b") == .toolOrigin(tool: "tool", target: "/only/a/b"))
        #expect(resolve("/tool") == .toolOrigin(tool: "tool", target: "/"))
        #expect(resolve("/tool?y=1") == .toolOrigin(tool: "tool", target: "/?y=1"))
        #expect(resolve("/tool/") == .toolOrigin(tool: "tool", target: "/"))
        #expect(resolve("/tool/x", host: nil) == .toolOrigin(tool: "tool", target: "/x"))
        // The landing site keeps whatever names no tool with routes; the root is the front page.
        #expect(resolve("/") == .frontPage)
        #expect(resolve("/about") == .backend(BackendGroup(landing), tool: "admin"))
        #expect(resolve("/nothere/x") == .backend(BackendGroup(landing), tool: "admin"))
        #expect(resolve("/missing/x") == .toolNotRunning(tool: "missing"))
        // A tool's own host is routed by host, never redirected.
        #expect(resolve("/only", host: "tool.example.org") == .backend(BackendGroup(one), tool: "tool"))
        #expect(resolve("/tool/x", host: "tool.example.org") == .toolNotRunning(tool: "tool"))
        // Serving by path stays what it was.
        #expect(routes.resolve(host: "example.org", path: "/tool/only", domain: "example.org", pathRouting: .serve)
            == .backend(BackendGroup(one), tool: "tool"))
    }

    /// `/` on the platform's own host is the front page: no tool's route takes it, not even the
    /// fallback tool's `.*` or `^/$`. A tool's own host keeps its own root.
    @Test func noToolTakesTheFrontPage() {
        let routes = table([("admin", ".*", landing), ("admin", "^/$", landing), ("tool", ".*", one)])
        for pathRouting in PathRouting.allCases {
            for host: Substring? in [nil, "example.org", "example.org:8443", "127.0.0.1:8080"] {
                for target: Substring in ["/", "/?q=1", "/#top"] {
                    #expect(routes.resolve(host: host, path: target, domain: "example.org", pathRouting: pathRouting) == .frontPage)
                }
            }
        }
        #expect(routes.resolve(host: nil, path: "//", domain: "example.org") == .backend(BackendGroup(landing), tool: "admin"))
        #expect(routes.resolve(host: "tool.example.org", path: "/", domain: "example.org") == .backend(BackendGroup(one), tool: "tool"))
        #expect(routes.resolve(host: nil, path: "/tool/", domain: "example.org") == .backend(BackendGroup(one), tool: "tool"))
    }

    @Test func changesReplaceOneToolOrEverything() {
        var routes = table([("a", ".*", one), ("b", ".*", one)])
        routes.apply(.replaced(tool: "a", routes: [Route(tool: "a", pattern: ".*", backend: two)]))
        #expect(routes.match(tool: "a", path: "/") == BackendGroup(two))
        routes.apply(.replaced(tool: "a", routes: []))
        #expect(routes.match(tool: "a", path: "/") == nil)
        #expect(routes.toolCount == 1)
        routes.apply(.snapshot([Route(tool: "c", pattern: ".*", backend: one)]))
        #expect(routes.match(tool: "b", path: "/") == nil)
        #expect(routes.match(tool: "c", path: "/") == BackendGroup(one))
    }

    @Test func invalidPatternsAreRefusedNotFatal() {
        var routes = RouteTable()
        let refused = routes.replaceRoutes(
            of: "t", with: [Route(tool: "t", pattern: "([", backend: one), Route(tool: "t", pattern: ".*", backend: two)])
        #expect(refused.count == 1)
        #expect(refused.first?.code == .invalidRoute)
        #expect(routes.match(tool: "t", path: "/") == BackendGroup(two))
        #expect(throws: KilnError.self) { try RoutePattern("(unclosed") }
    }

    @Test func routesOfOnePatternBecomeOneGroupAtItsFirstPlace() throws {
        let three = HostPort(host: "127.0.0.1", port: 3)
        let routes = table([
            ("tool", "^/api", one), ("tool", ".*", two), ("tool", "^/api", three), ("tool", "^/api", one),
            ("tool", ".*", one),
        ])
        let api = try #require(BackendGroup([one, three]))
        #expect(routes.resolve(host: nil, path: "/tool/api/x", domain: "d") == .backend(api, tool: "tool"))
        #expect(routes.match(tool: "tool", path: "/web")?.backends == [two, one])
        // Still one route per backend, grouped by pattern in the table's order, without repeats.
        #expect(routes.routes(of: "tool").map { "\($0.pattern) \($0.backend.port)" } == ["^/api 1", "^/api 3", ".* 2", ".* 1"])
        #expect(routes.allRoutes["tool"]?.count == 4)
    }

    @Test func aReplacedToolKeepsOnlyTheNewBackends() {
        var routes = table([("t", ".*", one), ("t", ".*", two)])
        routes.apply(.replaced(tool: "t", routes: [Route(tool: "t", pattern: ".*", backend: two)]))
        #expect(routes.match(tool: "t", path: "/")?.backends == [two])
        let refused = routes.replaceRoutes(
            of: "t",
            with: [Route(tool: "t", pattern: "([", backend: one), Route(tool: "t", pattern: "([", backend: two)])
        #expect(refused.count == 1, "a bad pattern is reported once")
        #expect(routes.toolCount == 0)
    }

    @Test func aToolsPatternsPastTheLimitAreLeftOutWithOneError() {
        var routes = RouteTable()
        let patterns = (0...RouteLimits.patternsPerTool).map { "^/p\($0)/" }
        var list = patterns.map { Route(tool: "t", pattern: $0, backend: one) }
        // A second backend of a pattern inside the limit still joins its group.
        list.append(Route(tool: "t", pattern: patterns[0], backend: two))
        let refused = routes.replaceRoutes(of: "t", with: list)
        #expect(refused.map(\.code) == [.quotaExceeded])
        #expect(refused.first?.message.contains("100") == true)
        #expect(refused.first?.context["tool"] == "t")
        #expect(routes.match(tool: "t", path: "/p99/x") == BackendGroup(one))
        #expect(routes.match(tool: "t", path: "/p100/x") == nil, "the 101st pattern is not routed")
        #expect(routes.match(tool: "t", path: "/p0/x")?.backends == [one, two])
    }

    @Test func aResyncFindsRoutesPastTheLimitsUnchanged() throws {
        var list = (0...RouteLimits.patternsPerTool).map { Route(tool: "t", pattern: "^/p\($0)/", backend: one) }
        list.append(Route(tool: "u", pattern: "^/" + String(repeating: "x", count: RouteLimits.patternBytes), backend: one))
        list.append(Route(tool: "u", pattern: ".*", backend: two))
        var refused: [KilnError] = []
        let table = RouteTable(routes: list, refused: &refused)
        #expect(refused.count == 2, "one error for t's extra pattern, one for u's long pattern")
        #expect(table.match(tool: "u", path: "/") == BackendGroup(two))
        let difference = try #require(table.difference(to: list))
        #expect(difference.isEmpty, "left out alike, so not reported again")
    }

    @Test func anAbandonedMatchIsNoMatchAndIsCounted() {
        _ = PatternLimitHits.shared.take()
        let routes = table([("slowtool", "^/(a+)+$", one), ("slowtool", ".*", two)])
        let path = "/slowtool/" + String(repeating: "a", count: 40) + "b"
        #expect(routes.resolve(host: nil, path: Substring(path), domain: "d") == .backend(BackendGroup(two), tool: "slowtool"))
        let report = PatternLimitHits.shared.take()
        #expect((report?.count ?? 0) >= 1)
        #expect(report?.lastTool == "slowtool")
        #expect(report?.lastPattern == "^/(a+)+$")
    }

    @Test func aGroupHasEachBackendOnceAndNeverNone() {
        #expect(BackendGroup([]) == nil)
        let group = BackendGroup([two, one, two])
        #expect(group?.backends == [two, one])
        #expect(group?.single == nil)
        #expect(group?.first == two)
        #expect(BackendGroup(one).single == one)
    }

    /// Every pattern of a tool may cost up to the engine's limit; a request stops trying them
    /// once it has spent `RouteLimits.matchTimePerRequest`, so a tool of 99 patterns that each
    /// backtrack to the limit holds its event loop about a millisecond, not the sum (some 10 ms),
    /// and its last pattern is never reached on such a path. A cheap miss of the same patterns
    /// still reaches it.
    @Test func aRequestStopsTryingPatternsPastItsBudget() throws {
        let costly = (0..<99).map { ("tool", "^/(a+)+$|^/never\($0)$", two) }
        let routes = table(costly + [("tool", ".*", one)])
        let path = "/tool/" + String(repeating: "a", count: 28) + "b"
        #expect(routes.resolve(host: nil, path: Substring(path), domain: "d") == .toolNotRunning(tool: "tool"))
        #expect(routes.resolve(host: nil, path: "/tool/x", domain: "d") == .backend(BackendGroup(one), tool: "tool"))
    }
}

@Suite struct RouteTableDifferenceTests {
    func route(_ tool: String, _ pattern: String, _ port: Int) -> Route {
        Route(tool: tool, pattern: pattern, backend: HostPort(host: "127.0.0.1", port: port))
    }

    @Test func theSameRoutesMakeNoDifference() throws {
        let routes = [route("a", ".*", 1), route("b", "^/api", 2), route("b", "^/api", 3), route("b", ".*", 4)]
        let table = RouteTable(routes: routes)
        let difference = try #require(table.difference(to: routes))
        #expect(difference.isEmpty)
    }

    @Test func changedAddedAndRemovedToolsAreNamed() throws {
        let table = RouteTable(routes: [route("a", ".*", 1), route("b", ".*", 2), route("c", ".*", 3)])
        let difference = try #require(
            table.difference(to: [route("a", ".*", 1), route("b", ".*", 9), route("d", ".*", 4)]))
        #expect(difference.changed.map(\.tool) == ["b", "d"])
        #expect(difference.changed.first?.routes == [route("b", ".*", 9)])
        #expect(difference.removed == ["c"])
        // A new backend of a pattern, or a new order, is a change too.
        #expect(try #require(table.difference(to: [route("a", ".*", 1), route("a", ".*", 5), route("b", ".*", 2), route("c", ".*", 3)])).changed.map(\.tool) == ["a"])
    }

    @Test func routesNotGroupedByToolAskForARebuild() {
        let table = RouteTable(routes: [route("a", ".*", 1)])
        #expect(table.difference(to: [route("a", "^/x", 1), route("b", ".*", 2), route("a", ".*", 1)]) == nil)
    }
}
