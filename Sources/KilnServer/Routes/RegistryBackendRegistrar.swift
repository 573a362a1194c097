import KilnAPI
import KilnCore

/// The webservice runner registers its replicas through the same registry the API writes (the
/// store, or Redis), so a registration reaches every proxy the same way.
struct RegistryBackendRegistrar: BackendRegistrar {
    let registry: any RouteRegistry

    func register(_ route: Route) async throws(KilnError) {
        try await registry.add(route)
    }

    func deregister(_ route: Route) async throws(KilnError) {
        _ = try await registry.remove(tool: route.tool, pattern: route.pattern, backend: route.backend)
    }
}
