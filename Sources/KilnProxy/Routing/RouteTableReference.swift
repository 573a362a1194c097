import KilnCore
import NIOConcurrencyHelpers
import Synchronization

/// The route table of one proxy, updated by push. Requests are never matched under its lock:
/// each event loop matches against its own copy (`LoopRouteTable`), which takes the table again,
/// under the lock and only for the copy, when the generation has moved. Changes compile outside
/// the lock, then swap in what they changed; a copy shares the table's storage, so a change
/// copies only the shard it touches of what a loop still holds.
public final class RouteTableReference: Sendable {
    private let table: NIOLockedValueBox<RouteTable>
    /// Moved under the lock with every change, so a copy and the generation it is at agree.
    private let changes = Atomic<UInt64>(0)
    /// When the table last changed (made, before any change), for the route table's age metric.
    private let changedAt = Mutex<ContinuousClock.Instant>(.now)

    public init(_ table: RouteTable = RouteTable()) {
        self.table = NIOLockedValueBox(table)
    }

    /// Applies a pushed change; returns why routes of it were left out (patterns that do not
    /// compile or are past `RouteLimits`), for the feed to report.
    @discardableResult
    public func apply(_ change: RouteChange) -> [KilnError] {
        switch change {
        case .replaced(let tool, let routes):
            // Compile outside the lock, then swap in the one tool's entry.
            var single = RouteTable()
            let refused = single.replaceRoutes(of: tool, with: routes)
            update { $0.replaceRoutes(of: tool, with: single) }
            return refused
        case .snapshot(let routes):
            guard let difference = difference(to: routes) else {
                var refused: [KilnError] = []
                let fresh = RouteTable(routes: routes, refused: &refused)
                update { $0 = fresh }
                return refused
            }
            // A resync that finds what the table holds changes nothing, not even the generation.
            if difference.isEmpty { return [] }
            var compiled = RouteTable()
            var refused: [KilnError] = []
            for (tool, routes) in difference.changed { refused += compiled.replaceRoutes(of: tool, with: routes) }
            update { table in
                for (tool, _) in difference.changed { table.replaceRoutes(of: tool, with: compiled) }
                for tool in difference.removed { table.replaceRoutes(of: tool, with: []) }
            }
            return refused
        }
    }

    private func update(_ change: (inout RouteTable) -> Void) {
        table.withLockedValue { table in
            change(&table)
            changes.add(1, ordering: .releasing)
        }
        changedAt.withLock { $0 = .now }
    }

    /// When the table last changed, or was made.
    public var lastChanged: ContinuousClock.Instant { changedAt.withLock { $0 } }

    /// What `routes` changes; nil when a rebuild is the better way: the routes are not grouped
    /// by tool, or they change most of the table (the first snapshot, a flush).
    private func difference(to routes: [Route]) -> RouteTableDifference? {
        let current = snapshot
        guard let difference = current.difference(to: routes),
            difference.changed.count + difference.removed.count <= max(64, current.toolCount / 4)
        else { return nil }
        return difference
    }

    /// Counts the changes applied. Backend selectors forgive ejections when it moves: a
    /// re-registration (even of the same backend) is the monitor saying it is back. Loops'
    /// copies of the table are refreshed when it moves.
    public var generation: UInt64 { changes.load(ordering: .acquiring) }

    /// The table and the generation it is at, for a reader to keep as its own copy.
    func current() -> (table: RouteTable, generation: UInt64) {
        table.withLockedValue { ($0, changes.load(ordering: .relaxed)) }
    }

    /// Resolves against a copy taken for this one call (for callers off the request path; each
    /// event loop resolves on its `LoopRouteTable`).
    public func resolve(
        host: Substring?, path: Substring, domain: String, pathRouting: PathRouting = .serve
    ) -> RouteResolution {
        snapshot.resolve(host: host, path: path, domain: domain, pathRouting: pathRouting)
    }

    public var snapshot: RouteTable { current().table }
}
