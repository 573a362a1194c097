import Foundation
import KilnAccounts
import KilnCore
import KilnProxy
import KilnRedis
import Logging
import ServiceLifecycle
import Synchronization

/// A front proxy alone (`kiln proxy`, and the proxy process `kiln serve` supervises): its route
/// table fed from a shared Redis or from a control plane's route feed, served until a graceful
/// shutdown signal.
public struct ProxyNode: Sendable {
    /// Where the proxy's routes come from.
    public enum Feed: Sendable {
        case redis(RedisRouteSource)
        case controlPlane(ControlPlaneFeedSource)
    }

    public let configuration: ProxyConfiguration
    public let feed: Feed
    /// Where the proxy keeps its self-signed certificate and access log.
    public let dataDirectory: String
    /// Where `GET /metrics` is served (nil: nowhere), and the token a scrape must bring.
    public let metricsAddress: HostPort?
    public let metricsToken: String
    /// Written (`PID START`) once the proxy listens and routes as its feed says: how a supervisor
    /// knows a new proxy is ready, and finds it again after a restart of its own.
    public let readyFile: ProxyReadyFile?
    /// Where the proxy keeps its routes for its next start (nil: nowhere; `kiln serve`'s own
    /// proxy is started again by its control plane, which is then up).
    public let routeCache: ProxyRouteCache?
    public let logger: Logger

    public init(
        configuration: ProxyConfiguration, feed: Feed, dataDirectory: String, metricsAddress: HostPort? = nil, metricsToken: String = "",
        readyFile: ProxyReadyFile? = nil, routeCache: ProxyRouteCache? = nil, logger: Logger
    ) {
        self.routeCache = routeCache
        self.metricsAddress = metricsAddress
        self.metricsToken = metricsToken
        self.configuration = configuration
        self.feed = feed
        self.dataDirectory = dataDirectory
        self.readyFile = readyFile
        self.logger = logger
    }

    public func run() async throws {
        try FileManager.default.createDirectory(atPath: dataDirectory + "/logs", withIntermediateDirectories: true)
        let routes = RouteTableReference()
        let notices = ToolNotices()
        let readiness = Readiness(file: readyFile, logger: logger)
        let kept = keptRoutes()
        let routeFeed: any Service
        let owners: BackendOwners
        switch feed {
        case .redis(let redis):
            let redisFeed = redis.feed(logger: logger)
            let reachable = try await RedisRouteAccess.check(
                redisFeed, role: .proxy, passwordInArguments: redis.passwordInArguments, logger: logger)
            owners = BackendOwners(resolver: AccountBackendOwnerResolver(userPrefix: UnixAccountName.prefix))
            routeFeed = RouteFeedService.fromRedis(
                redisFeed, routes: routes, owners: owners, logger: logger, onSynchronized: { readiness.synchronized() })
            if let kept {
                let change = RouteChange.snapshot(kept.routes)
                await owners.prepare(for: change)
                routes.apply(change)
            }
            // A proxy restarted beside others must not answer 503 before it has read the routes
            // (a balancer in front would pass those on); with Redis away there is nothing to
            // wait for, and it serves what it kept (or its pages) at once.
            if !reachable {
                if kept != nil { logger.notice("serving the routes kept from before the restart until Redis answers") }
                readiness.synchronized()
            }
        case .controlPlane(let source):
            let client = ControlPlaneRouteFeed(
                source: source, routes: routes, notices: notices, logger: logger, onSynchronized: { readiness.synchronized() })
            owners = client.owners
            routeFeed = client
            if let kept { client.restore(kept) }
        }
        let metrics = ProxyMetrics()
        let routesWait = kept == nil ? Self.routesWait : Self.keptRoutesWait
        let server = try ProxyServer(
            configuration: configuration, routes: routes, notices: notices, owners: owners, metrics: metrics,
            frontPage: try frontPage(), logger: logger,
            listenWhen: { await readiness.routesLoaded(within: routesWait) }, onListening: { _ in readiness.listening() })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: routeFeed), .init(service: server)]
        if let routeCache {
            let statedOwners: BackendOwners? =
                switch feed {
                case .controlPlane: owners
                case .redis: nil
                }
            services.append(
                .init(service: ProxyRouteCacheWriter(cache: routeCache, routes: routes, owners: statedOwners, notices: notices, logger: logger)))
        }
        if let metricsAddress {
            guard !metricsToken.isEmpty else { throw KilnError(.badRequest, "the proxy's metrics need a token") }
            services.append(
                .init(service: ProxyMetricsServer(address: metricsAddress, token: metricsToken, metrics: metrics, reusePort: configuration.reusePort, logger: logger)))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The routes kept at the last run, if any; one that cannot be read is left aside, said, and
    /// replaced once the feed has routes.
    func keptRoutes() -> ProxyRouteCache.Contents? {
        guard let routeCache else { return nil }
        do {
            let kept = try routeCache.load()
            if let kept { logger.info("routes kept from the last run", metadata: ["routes": "\(kept.routes.count)", "path": "\(routeCache.path)"]) }
            return kept
        } catch {
            logger.warning("the routes kept from the last run are left aside", metadata: ["error": "\(error.message)"])
            return nil
        }
    }

    /// `/`: the directory of the control plane the proxy follows; a proxy fed from Redis alone
    /// knows no control plane, and has none.
    func frontPage() throws -> DirectoryFrontPage? {
        switch feed {
        case .redis:
            return nil
        case .controlPlane(let source):
            return try DirectoryFrontPage(directory: ControlPlaneDirectory(endpoint: source.endpoint), proxy: configuration)
        }
    }

    /// How long a proxy waits for its routes before it listens all the same (its control plane is
    /// down too): then it answers every request with a page rather than leaving clients waiting.
    static let routesWait: Duration = .seconds(10)
    /// With routes kept from its last run, a proxy waits less before it serves them: its control
    /// plane may be away for long (a failed connection is retried until its deadline).
    static let keptRoutesWait: Duration = .seconds(2)

    /// Says the proxy is ready once it both listens and routes.
    final class Readiness: Sendable {
        let file: ProxyReadyFile?
        let logger: Logger
        private let state = Mutex((listening: false, synchronized: false, said: false))
        private let loaded: AsyncStream<Void>
        private let loadedInput: AsyncStream<Void>.Continuation

        init(file: ProxyReadyFile?, logger: Logger) {
            self.file = file
            self.logger = logger
            (loaded, loadedInput) = AsyncStream<Void>.makeStream()
        }

        func listening() { update { $0.listening = true } }
        func synchronized() {
            update { $0.synchronized = true }
            loadedInput.finish()
        }

        /// Returns once the routes are loaded, or after `limit`.
        func routesLoaded(within limit: Duration) async {
            let loaded = self.loaded
            let logger = self.logger
            await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    for await _ in loaded {}
                    return true
                }
                group.addTask {
                    try? await Task.sleep(for: limit)
                    return false
                }
                if await group.next() == false {
                    logger.warning("proxy: the route feed said nothing within \(limit); listening with the routes the proxy has")
                }
                group.cancelAll()
            }
        }

        private func update(_ change: (inout (listening: Bool, synchronized: Bool, said: Bool)) -> Void) {
            let ready = state.withLock { state in
                change(&state)
                guard state.listening, state.synchronized, !state.said else { return false }
                state.said = true
                return true
            }
            guard ready else { return }
            logger.notice("proxy ready")
            do {
                try file?.markReady()
            } catch {
                logger.error("cannot write the proxy's ready file", metadata: ["error": "\(error)"])
            }
        }
    }
}
