import KilnCore
import KilnStore

/// Where routes are kept: the embedded store, or (with `--routes redis://`) a shared Redis.
public protocol RouteRegistry: Sendable {
    func allRoutes() async throws(KilnError) -> [Route]
    func routes(of tool: String) async throws(KilnError) -> [Route]
    /// Adds the route's backend to its pattern's backends.
    func add(_ route: Route) async throws(KilnError)
    /// Makes the route's backend its pattern's only one.
    func replace(_ route: Route) async throws(KilnError)
    /// Removes one backend of the pattern, or (nil) the whole pattern; whether anything was.
    func remove(tool: String, pattern: String, backend: HostPort?) async throws(KilnError) -> Bool
}

/// Routes in the embedded SQLite store; its changes reach the in-process proxy by push.
public struct StoreRouteRegistry: RouteRegistry {
    let store: KilnStore

    public init(store: KilnStore) { self.store = store }

    public func allRoutes() async throws(KilnError) -> [Route] { try await store.routes() }
    public func routes(of tool: String) async throws(KilnError) -> [Route] { try await store.routes(of: tool) }
    public func add(_ route: Route) async throws(KilnError) { try await store.addRoute(route) }
    public func replace(_ route: Route) async throws(KilnError) { try await store.replaceRoute(route) }
    public func remove(tool: String, pattern: String, backend: HostPort?) async throws(KilnError) -> Bool {
        try await store.removeRoute(tool: tool, pattern: pattern, backend: backend)
    }
}
