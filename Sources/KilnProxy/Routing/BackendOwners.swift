import KilnCore
import NIOConcurrencyHelpers

/// Whose listener each tool's backends must be, learnt once per route change (before the route
/// table applies it, so a tool is never routable before its owner is known) and read only when
/// the proxy opens a new connection to a backend: nothing per request.
public final class BackendOwners: Sendable {
    private let owners = NIOLockedValueBox<[String: BackendOwner]>([:])
    private let resolver: (any BackendOwnerResolver)?

    /// Without a resolver nothing is checked (a proxy whose routes are all the operator's).
    public init(resolver: (any BackendOwnerResolver)?) {
        self.resolver = resolver
    }

    /// Learns the owners of the tools `change` names: a tool whose routes are replaced is asked
    /// again (it may have been deleted and created anew); a snapshot asks only for tools not known
    /// and forgets the ones it no longer has.
    public func prepare(for change: RouteChange) async {
        guard let resolver else { return }
        switch change {
        case .replaced(let tool, let routes):
            guard !routes.isEmpty else {
                owners.withLockedValue { $0[tool] = nil }
                return
            }
            let found = await resolver.owners(of: [tool])
            owners.withLockedValue { $0[tool] = found[tool] ?? .anyone }
        case .snapshot(let routes):
            var tools = Set<String>()
            for route in routes { tools.insert(route.tool) }
            let unknown = owners.withLockedValue { known in tools.filter { known[$0] == nil } }
            let found = unknown.isEmpty ? [:] : await resolver.owners(of: Array(unknown))
            owners.withLockedValue { known in
                known = known.filter { tools.contains($0.key) }
                for tool in unknown { known[tool] = found[tool] ?? .anyone }
            }
        }
    }

    /// Takes owners as a feed states them (the control plane's, which knows them): all of them
    /// (`replacingAll`: tools not named are forgotten), or the ones named.
    public func set(_ stated: [String: BackendOwner], replacingAll: Bool) {
        owners.withLockedValue { known in
            if replacingAll { known = stated } else { known.merge(stated) { _, new in new } }
        }
    }

    /// Forgets a tool's owner (it has no routes any more).
    public func forget(_ tool: String) {
        owners.withLockedValue { $0[tool] = nil }
    }

    /// The uids the known tools' listeners must have (tools not checked left out): what a proxy
    /// keeps of its owners across a restart.
    public var statedUIDs: [String: UInt32] {
        owners.withLockedValue { known in
            known.compactMapValues { owner in
                switch owner {
                case .uid(let uid): uid
                case .anyone: nil
                }
            }
        }
    }

    /// Who must own `tool`'s listeners: `.anyone` for a tool not known (no resolver).
    public func owner(of tool: String) -> BackendOwner {
        owners.withLockedValue { $0[tool] } ?? .anyone
    }
}
