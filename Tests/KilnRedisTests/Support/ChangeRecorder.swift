import KilnCore
import KilnRedis
import KilnTesting
import Synchronization

/// Consumes a route feed in its own task, noting when each change arrived, so a test can wait
/// for a change with a deadline (a bare `next()` would hang a broken test forever) and still
/// measure latency to the arrival, not to when the test looked.
final class ChangeRecorder: Sendable {
    struct Arrival: Sendable {
        var change: RouteChange
        var at: ContinuousClock.Instant
    }

    private let arrivals = Mutex<[Arrival]>([])
    private let consumer = Mutex<Task<Void, Never>?>(nil)

    init(_ feed: RedisRouteFeed) {
        let stream = feed.updates()
        let task = Task { [self] in
            for await change in stream {
                let now = ContinuousClock.now
                arrivals.withLock { $0.append(Arrival(change: change, at: now)) }
            }
        }
        consumer.withLock { $0 = task }
    }

    var all: [Arrival] { arrivals.withLock { $0 } }
    var changes: [RouteChange] { all.map(\.change) }

    /// The first arrival from index `from` on that satisfies `condition`.
    @discardableResult
    func wait(
        from index: Int = 0, timeout: Duration = .seconds(5), _ what: String = "change",
        until condition: (RouteChange) -> Bool = { _ in true }
    ) async throws -> Arrival {
        let deadline = ContinuousClock.now + timeout
        while true {
            let all = self.all
            if index < all.count, let found = all[index...].first(where: { condition($0.change) }) { return found }
            guard ContinuousClock.now < deadline else {
                throw TestFailure("no \(what) within \(timeout); received \(all.map(\.change))")
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Ends the consuming task, which must stop the feed and close its connections.
    func cancel() {
        consumer.withLock { $0?.cancel() }
    }

    /// The route table the changes so far build.
    var table: RouteTable {
        var table = RouteTable()
        for change in changes { table.apply(change) }
        return table
    }
}

extension RouteChange {
    var isSnapshot: Bool {
        if case .snapshot = self { return true }
        return false
    }
}
