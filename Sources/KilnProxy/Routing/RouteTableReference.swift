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
            let fresh = RouteTable(routes: routes)
            table.withLockedValue { $0 = fresh }
        }
        changes.add(1, ordering: .relaxed)
    }

    /// Counts the changes applied. Backend selectors forgive ejections when it moves: a
    /// re-registration (even of the same backend) is the monitor saying it is back.
    public var generation: UInt64 { changes.load(ordering: .relaxed) }

    public func resolve(host: Substring?, path: Substring, domain: String) -> RouteResolution {
        table.withLockedValue { $0.resolve(host: host, path: path, domain: domain) }
    }

    public var snapshot: RouteTable { table.withLockedValue { $0 } }
}
