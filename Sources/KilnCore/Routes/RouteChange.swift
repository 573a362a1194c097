/// A change of the route table, pushed from where routes are kept to every proxy.
public enum RouteChange: Sendable, Hashable {
    /// The tool's routes are now exactly these, in order (empty: the tool has none).
    case replaced(tool: String, routes: [Route])
    /// Every route there is (a full resync): tools not named here have none.
    case snapshot([Route])
}

extension RouteTable {
    /// Applies a pushed change.
    public mutating func apply(_ change: RouteChange) {
        switch change {
        case .replaced(let tool, let routes):
            replaceRoutes(of: tool, with: routes)
        case .snapshot(let routes):
            self = RouteTable(routes: routes)
        }
    }
}
