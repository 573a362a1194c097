import KilnCore
import NIOConcurrencyHelpers
import Synchronization

/// The route table every event loop reads, updated by push. Readers hold the lock only for the
/// lookup itself; a full resync builds the new table outside the lock and swaps it in.
public final class RouteTableReference: Sendable {
    private let table: NIOLockedValueBox<RouteTable>
    private let changes = Atomic<UInt64>(0)

    public init(_ table: RouteTable = RouteTable()) {
        self.table = NIOLockedValueBox(table)
    }

    public func apply(_ change: RouteChange) {
        switch change {
        case .replaced(let tool, let routes):
            // Compile outside the lock, then swap in the one tool's entry.
            var single = RouteTable()
            single.replaceRoutes(of: tool, with: routes)
            table.withLockedValue { $0.replaceRoutes(of: tool, with: single) }
        case .snapshot(let routes):
            guard let difference = difference(to: routes) else {
                let fresh = RouteTable(routes: routes)
                table.withLockedValue { $0 = fresh }
                break
            }
            // A resync that finds what the table holds changes nothing, not even the generation.
            if difference.isEmpty { return }
            var compiled = RouteTable()
            for (tool, routes) in difference.changed { compiled.replaceRoutes(of: tool, with: routes) }
            table.withLockedValue { table in
                for (tool, _) in difference.changed { table.replaceRoutes(of: tool, with: compiled) }
                for tool in difference.removed { table.replaceRoutes(of: tool, with: []) }
            }
        }
        changes.add(1, ordering: .relaxed)
    }

    /// What `routes` changes; nil when a rebuild is the better way: the routes are not grouped
    /// by tool, or they change most of the table (the first snapshot, a flush).
    private func difference(to routes: [Route]) -> RouteTableDifference? {
        // The copy is released on return: the table is then mutated in place, not copied.
        let current = snapshot
        guard let difference = current.difference(to: routes),
            difference.changed.count + difference.removed.count <= max(64, current.toolCount / 4)
        else { return nil }
        return difference
    }

    /// Counts the changes applied. Backend selectors forgive ejections when it moves: a
    /// re-registration (even of the same backend) is the monitor saying it is back.
    public var generation: UInt64 { changes.load(ordering: .relaxed) }

    public func resolve(
        host: Substring?, path: Substring, domain: String, pathRouting: PathRouting = .serve
    ) -> RouteResolution {
        table.withLockedValue { $0.resolve(host: host, path: path, domain: domain, pathRouting: pathRouting) }
    }

    public var snapshot: RouteTable { table.withLockedValue { $0 } }
}
