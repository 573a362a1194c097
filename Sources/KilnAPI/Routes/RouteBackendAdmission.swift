import KilnCore
import KilnSocketOwners
import KilnStore

/// Checks a route's backend before it is registered: `RouteBackendPolicy` with what the store
/// knows of the tool (its uid, the ports the platform gave it) and what the kernel says of the
/// listener there.
public struct RouteBackendAdmission: Sendable {
    let store: KilnStore
    let policy: RouteBackendPolicy
    let lookup: SocketOwnerLookup

    public init(store: KilnStore, policy: RouteBackendPolicy, lookup: SocketOwnerLookup = SocketOwnerLookup()) {
        self.store = store
        self.policy = policy
        self.lookup = lookup
    }

    /// Throws (403 naming the backend and its owner) unless `caller` may route `tool` to `backend`.
    func check(_ backend: HostPort, of tool: ToolName, caller: Principal) async throws(KilnError) {
        // The admin routes anywhere: no need to read the store.
        if case .admin = caller { return }
        guard let record = try await store.tool(named: tool) else {
            throw KilnError(.notFound, "no tool '\(tool)'", context: ["tool": tool.rawValue])
        }
        let identity: RouteBackendPolicy.ToolIdentity = record.unixUser.map { .ownUser(uid: $0.uid) } ?? .server
        let platform = try await platformBackends(of: tool, identity: identity)
        try policy.check(backend, of: tool, caller: caller, identity: identity, platform: platform) { lookup.listenerOwner(of: $0) }
    }

    /// The loopback ports of the tool's replicas (webservice and continuous jobs); in single-user
    /// mode also every other tool's, which only the store tells apart.
    func platformBackends(
        of tool: ToolName, identity: RouteBackendPolicy.ToolIdentity
    ) async throws(KilnError) -> RouteBackendPolicy.PlatformBackends {
        var backends = RouteBackendPolicy.PlatformBackends(tool: try await replicaEndpoints(of: tool))
        switch identity {
        case .ownUser:
            break
        case .server:
            for other in try await store.tools() where other.name != tool {
                backends.otherTools.formUnion(try await replicaEndpoints(of: other.name))
            }
        }
        return backends
    }

    private func replicaEndpoints(of tool: ToolName) async throws(KilnError) -> Set<LoopbackEndpoint> {
        var ports = try await store.replicas(of: tool).map(\.port)
        for job in try await store.jobs(of: tool) {
            ports += try await store.jobReplicas(of: job.name, tool: tool).map(\.port)
        }
        return Set(ports.compactMap { LoopbackEndpoint(HostPort(host: "127.0.0.1", port: $0)) })
    }
}
