import KilnAPI
import KilnCore
import KilnRedis

/// The API's route registry when routes live in a shared Redis.
struct RedisRouteRegistry: RouteRegistry {
    let store: RedisRouteStore

    func allRoutes() async throws(KilnError) -> [Route] { try await store.allRoutes() }
    func routes(of tool: String) async throws(KilnError) -> [Route] { try await store.routes(of: tool) }
    func add(_ route: Route) async throws(KilnError) { try await store.add(route) }
    func replace(_ route: Route) async throws(KilnError) { try await store.replace(route) }
    func remove(tool: String, pattern: String, backend: HostPort?) async throws(KilnError) -> Bool {
        try await store.remove(tool: tool, pattern: pattern, backend: backend)
    }
}

extension RouteFeedService {
    static func fromRedis(
        _ feed: RedisRouteFeed, routes: RouteTableReference?, owners: BackendOwners, hub: RouteFeedHub? = nil, logger: Logger,
        onSynchronized: @escaping @Sendable () -> Void = {}
    ) -> RouteFeedService {
        RouteFeedService(
            name: "redis", routes: routes, owners: owners, hub: hub, changes: { feed.updates() }, logger: logger,
            onSynchronized: onSynchronized)
    }
}

import KilnProxy
import Logging
