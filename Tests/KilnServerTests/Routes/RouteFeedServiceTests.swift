import KilnCore
import KilnProxy
import Logging
import Synchronization
import Testing

@testable import KilnServer

/// The route feed's service says it is synchronized once its table holds the first snapshot, and
/// only then: a proxy listens at that moment, so it never answers 503 for a tool it has not read.
@Suite struct RouteFeedServiceTests {
    @Test func itIsSynchronizedOnceTheFirstSnapshotIsAppliedAndOnlyOnce() async throws {
        let table = RouteTableReference()
        let backend = try HostPort(parsing: "127.0.0.1:1")
        let calls = Mutex<[Int]>([])
        let (changes, input) = AsyncStream<RouteChange>.makeStream()
        input.yield(.replaced(tool: "early", routes: [Route(tool: "early", pattern: ".*", backend: backend)]))
        input.yield(.snapshot([Route(tool: "a", pattern: ".*", backend: backend), Route(tool: "b", pattern: ".*", backend: backend)]))
        input.yield(.snapshot([Route(tool: "a", pattern: ".*", backend: backend)]))
        input.finish()
        var logger = Logger(label: "route-feed-test")
        logger.logLevel = .critical
        let service = RouteFeedService(
            name: "test", routes: table, owners: BackendOwners(resolver: nil), hub: nil, changes: { changes }, logger: logger,
            onSynchronized: { calls.withLock { $0.append(table.snapshot.toolCount) } })
        try await service.run()
        // Once, with the first snapshot's two tools already in the table; not for the replacement
        // before it, nor for the resync after it.
        #expect(calls.withLock { $0 } == [2])
        #expect(table.snapshot.toolCount == 1)
    }
}
