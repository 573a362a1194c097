import Hummingbird
import KilnBuilds
import KilnCore
import KilnStore

#if canImport(Glibc)
import Glibc
#endif

/// The control-plane API: every route behind authentication (but the public directory of tools),
/// every error in one JSON shape.
public enum ControlPlaneRouter {
    public static func build(
        authenticator: Authenticator, tools: ToolService, store: KilnStore, routes: any RouteRegistry,
        webservices: (any WebserviceControl)? = nil, jobs: (any JobControl)? = nil,
        routeBackends: RouteBackendAdmission? = nil, routeFeed: RouteFeedHub? = nil, feedHeartbeat: Duration = .seconds(10),
        metrics: ControlPlaneMetrics? = nil, envvars: EnvvarService? = nil, directory: ToolDirectoryService? = nil,
        builds: (any BuildControl)? = nil
    ) -> Router<KilnRequestContext> {
        let router = Router(context: KilnRequestContext.self)
        router.add(middleware: ErrorMiddleware<KilnRequestContext>())
        router.add(middleware: AuthenticationMiddleware(authenticator: authenticator))
        ToolsController(service: tools, store: store, routes: routes, webservices: webservices, jobs: jobs).register(on: router)
        // Without the server's listeners named, a tool's backend is still checked for its owner.
        let routeBackends = routeBackends ?? RouteBackendAdmission(
            store: store, policy: RouteBackendPolicy(serverUID: geteuid(), serverListeners: []))
        RoutesController(registry: routes, backendAdmission: routeBackends).register(on: router)
        if let routeFeed { RouteFeedController(hub: routeFeed, heartbeat: feedHeartbeat).register(on: router) }
        if let metrics { MetricsController(metrics: metrics).register(on: router) }
        if let envvars { EnvvarsController(service: envvars).register(on: router) }
        QuotasController(store: store, defaults: JobQuota()).register(on: router)
        DirectoryController(service: directory ?? ToolDirectoryService(store: store)).register(on: router)
        if let webservices {
            WebservicesController(
                control: webservices, filesOf: { name throws(KilnError) in try await tools.files(of: name) },
                toolOf: { name throws(KilnError) in try await store.tool(named: name) }, environments: envvars?.environments
            ).register(on: router)
            ReplicaBackendController(control: webservices).register(on: router)
        }
        if let builds { BuildsController(control: builds).register(on: router) }
        if let jobs {
            JobsController(control: jobs, filesOf: { name throws(KilnError) in try await tools.files(of: name) }).register(on: router)
        }
        return router
    }
}
