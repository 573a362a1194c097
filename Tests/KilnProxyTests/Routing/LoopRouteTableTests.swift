import KilnCore
import Testing

@testable import KilnProxy

@Suite struct LoopRouteTableTests {
    let one = HostPort(host: "127.0.0.1", port: 1)
    let two = HostPort(host: "127.0.0.1", port: 2)

    @Test func aLoopsCopyTakesEachChangeAtItsNextLookup() {
        let reference = RouteTableReference()
        let loop = LoopRouteTable(reference)
        #expect(loop.resolve(host: nil, path: "/t/", domain: "d") == .toolNotRunning(tool: "t"))
        reference.apply(.replaced(tool: "t", routes: [Route(tool: "t", pattern: ".*", backend: one)]))
        #expect(loop.resolve(host: nil, path: "/t/", domain: "d") == .backend(BackendGroup(one), tool: "t"))
        reference.apply(.replaced(tool: "t", routes: [Route(tool: "t", pattern: ".*", backend: two)]))
        #expect(loop.resolve(host: nil, path: "/t/", domain: "d") == .backend(BackendGroup(two), tool: "t"))
        reference.apply(.snapshot([Route(tool: "u", pattern: ".*", backend: one)]))
        #expect(loop.resolve(host: nil, path: "/t/", domain: "d") == .toolNotRunning(tool: "t"))
        #expect(loop.resolve(host: nil, path: "/u/", domain: "d") == .backend(BackendGroup(one), tool: "u"))
    }

    /// A change made while a loop holds the table copies what it changes: the loop's copy (and
    /// any table taken before) keeps answering as it did until the loop looks again.
    @Test func aChangeLeavesCopiesAlreadyTakenAsTheyWere() {
        let reference = RouteTableReference()
        let tools = (0..<500).map { "tool\($0)" }
        reference.apply(.snapshot(tools.map { Route(tool: $0, pattern: ".*", backend: one) }))
        let before = reference.snapshot
        reference.apply(.replaced(tool: "tool7", routes: [Route(tool: "tool7", pattern: "^/x", backend: two)]))
        #expect(before.match(tool: "tool7", path: "/") == BackendGroup(one))
        #expect(reference.snapshot.match(tool: "tool7", path: "/") == nil)
        #expect(reference.snapshot.match(tool: "tool7", path: "/x") == BackendGroup(two))
        #expect(reference.snapshot.match(tool: "tool8", path: "/") == BackendGroup(one))
        #expect(reference.snapshot.toolCount == 500)
    }

    /// What the feed reports: why routes of a change were left out.
    @Test func applyingAChangeSaysWhatWasLeftOut() {
        let reference = RouteTableReference()
        let refused = reference.apply(.replaced(tool: "t", routes: [
            Route(tool: "t", pattern: "([", backend: one), Route(tool: "t", pattern: ".*", backend: two),
        ]))
        #expect(refused.map(\.code) == [.invalidRoute])
        #expect(refused.first?.context["tool"] == "t")
        #expect(reference.apply(.replaced(tool: "t", routes: [Route(tool: "t", pattern: ".*", backend: one)])).isEmpty)
    }

    /// Loops on many threads look up while changes are applied: each sees a whole table (the
    /// tool routed to one backend or the other, never a torn state) and ends on the last change.
    @Test func loopsLookUpWhileChangesAreApplied() async {
        let reference = RouteTableReference()
        reference.apply(.replaced(tool: "t", routes: [Route(tool: "t", pattern: "^/api/v[0-9]+/", backend: one)]))
        let (one, two) = (self.one, self.two)
        let lastChange = 400
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for change in 1...lastChange {
                    let backend = change.isMultiple(of: 2) ? one : two
                    reference.apply(.replaced(tool: "t", routes: [Route(tool: "t", pattern: "^/api/v[0-9]+/", backend: backend)]))
                    await Task.yield()
                }
                return true
            }
            for _ in 0..<4 {
                group.addTask {
                    let loop = LoopRouteTable(reference)
                    let either: [RouteResolution] = [.backend(BackendGroup(one), tool: "t"), .backend(BackendGroup(two), tool: "t")]
                    var whole = true
                    for _ in 0..<2_000 {
                        whole = whole && either.contains(loop.resolve(host: nil, path: "/t/api/v2/x", domain: "d"))
                    }
                    return whole
                }
            }
            for await whole in group { #expect(whole) }
        }
        #expect(LoopRouteTable(reference).resolve(host: nil, path: "/t/api/v2/x", domain: "d") == .backend(BackendGroup(one), tool: "t"))
    }
}
