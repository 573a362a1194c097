import Foundation
import Hummingbird
import KilnAPI
import KilnBuilds
import KilnAccounts
import KilnCore
import KilnFiles
import KilnMail
import KilnMonitor
import KilnProxy
import KilnRedis
import KilnRunner
import KilnStore
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The whole platform on one machine (`kiln serve`): the control-plane API on TCP and on the Unix
/// socket, the webservice and job monitors, the route feed, and the proxy (in this process or a
/// supervised process of its own), as one group of services that start together and stop
/// gracefully on SIGINT or SIGTERM.
public struct Platform: Sendable {
    public let configuration: PlatformConfiguration
    public let logger: Logger

    public init(configuration: PlatformConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until a graceful shutdown signal.
    public func run() async throws {
        let logger = self.logger
        let directory = try DataDirectory(path: configuration.dataDirectory)
        // Every process of a tool's begins with it: refuse now rather than at the first start.
        _ = try ProcessEntry.helper()
        let accounts = try HostAccounts(dataDirectory: directory.path, userMode: configuration.unixUsers, logger: logger)
        if accounts.managesUnixUsers {
            try directory.checkHomesReachable()
        } else {
            logger.warning(
                "single-user mode: tools run as this server's own user (uid \(geteuid())), not apart from each other or from the platform; run kiln serve as root to give every tool its own Unix user")
        }
        try PrivateDirectory.ensure(directory.logsPath, mode: 0o700, owner: .process)
        let proxyConfiguration = configuration.proxy
        try directory.removeStaleSocket()
        let adminToken = try directory.adminToken()
        // Made here also for a proxy of its own, which reads it from the data directory.
        let metricsToken = try configuration.proxyMetricsToken ?? directory.metricsToken()
        try directory.restrictStore()
        let store = try KilnStore(path: directory.storePath, logger: logger)
        let builds = BuildService(
            configuration: .init(
                images: ImageStore(root: directory.imagesPath), workRoot: directory.buildsPath, instance: accounts.toolsDirectory,
                toolchain: .host()),
            store: store, homeOf: { accounts.home(of: $0) }, logger: logger)
        let tools = ToolService(store: store, accounts: accounts, builds: builds, logger: logger)
        // Before anything of a tool runs, it has a user of its own (tools stored without one get one).
        try await tools.ensureIdentities()
        guard let runtimeDirectory = RuntimeDirectory.prepare(tag: InstanceTag.of(directory.path), fallback: directory.runtimeFallbackPath)
        else {
            throw KilnError(.storage, "cannot make a runtime folder of the platform's own in /dev/shm or \(directory.runtimeFallbackPath)")
        }
        let registry: any RouteRegistry =
            switch configuration.routeSource {
            case .redis(let redis):
                RedisRouteRegistry(store: RedisRouteStore(url: redis.url, prefix: redis.prefix, logger: logger))
            case .store:
                StoreRouteRegistry(store: store)
            }
        let environments = ToolEnvironments()
        let envvars = EnvvarService(store: store, vault: try EnvvarVault(key: directory.envvarsKey()), environments: environments)
        try await envvars.load(logger: logger)
        let notices = ToolNotices()
        let feedHub = RouteFeedHub()
        let metrics = ControlPlaneMetrics(store: store, routeFeed: feedHub)
        let monitorMetrics = MonitorMetrics(factory: metrics.factory)
        let jobBackend = configuration.jobBackend.make(toolsDirectory: accounts.toolsDirectory, runtimeDirectory: runtimeDirectory)
        let images = ImageStore(root: directory.imagesPath)
        var webserviceConfiguration = WebserviceMonitor.Configuration()
        webserviceConfiguration.images = images
        webserviceConfiguration.networks = try await configuration.replicaNetwork.make(
            for: configuration.jobBackend, instance: InstanceTag.of(directory.path), logger: logger)
        let monitor = WebserviceMonitor(
            store: store, registrar: RegistryBackendRegistrar(registry: registry), homeOf: { accounts.home(of: $0) },
            kilnExecutable: Self.executablePath, runtimeDirectory: runtimeDirectory, configuration: webserviceConfiguration,
            metrics: monitorMetrics, environments: environments,
            grid: try configuration.gridWebservices(backend: jobBackend), logger: logger,
            onFailureChange: { tool, reason in
                notices.set(reason, for: tool.rawValue)
                feedHub.setNotice(reason, for: tool.rawValue)
            })
        var jobConfiguration = JobMonitor.Configuration()
        jobConfiguration.images = images
        let jobs = JobMonitor(
            store: store, backend: jobBackend,
            clock: configuration.clockFile.map { FileJobClock(path: $0) as any JobClock } ?? SystemJobClock(), mailer: mailer(),
            homeOf: { accounts.home(of: $0) }, configuration: jobConfiguration, metrics: monitorMetrics, environments: environments,
            logger: logger)
        try await builds.recover()
        let apiAddress = configuration.api
        // One cache of the directory for the API's public route and a proxy in this process.
        let toolDirectory = ToolDirectoryService(store: store)
        let router = ControlPlaneRouter.build(
            authenticator: Authenticator(adminToken: adminToken, store: store), tools: tools, store: store,
            routes: registry, webservices: monitor, jobs: jobs,
            routeBackends: RouteBackendAdmission(
                store: store,
                policy: RouteBackendPolicy(
                    serverUID: geteuid(), serverListeners: [apiAddress] + [proxyConfiguration.http, proxyConfiguration.https].compactMap { $0 })),
            routeFeed: feedHub, metrics: metrics, envvars: envvars, directory: toolDirectory, builds: builds)

        let socketPath = directory.socketPath
        let tcpAPI = Application(
            router: router,
            configuration: .init(address: .hostname(apiAddress.host, port: apiAddress.port), serverName: "kiln"),
            onServerRunning: { channel in
                logger.notice("control-plane API listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
            },
            logger: logger)
        let socketAPI = Application(
            router: router,
            configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "kiln"),
            onServerRunning: { _ in
                // Any local user may connect; the kernel's peer credentials say who they are.
                chmod(socketPath, 0o666)
                logger.notice("control-plane API listening", metadata: ["socket": "\(socketPath)"])
            },
            logger: logger)

        let owners = BackendOwners(resolver: StoreBackendOwnerResolver(store: store, serverUID: geteuid()))
        // A route table in this process only for a proxy in this process: a proxy of its own
        // keeps its table from the feed, and compiling every pattern here too would be for nothing.
        var proxyTable: RouteTableReference?
        var proxyServices: [ServiceGroupConfiguration.ServiceConfiguration] = []
        switch configuration.proxyPlacement {
        case .inProcess:
            let table = RouteTableReference()
            proxyTable = table
            let metrics = ProxyMetrics()
            proxyServices.append(.init(service: try ProxyServer(
                configuration: proxyConfiguration, routes: table, notices: notices, owners: owners, metrics: metrics,
                frontPage: try DirectoryFrontPage(directory: toolDirectory, proxy: proxyConfiguration), logger: logger)))
            if let address = configuration.proxyMetrics {
                proxyServices.append(.init(service: ProxyMetricsServer(address: address, token: metricsToken, metrics: metrics, logger: logger)))
            }
        case .supervised(let executable, let arguments):
            // The proxy's process serves its metrics itself: it reads `--proxy-metrics` from the same arguments.
            proxyServices.append(.init(service: ProxySupervisor(
                executable: executable, arguments: arguments, addresses: ProxyListeners.addresses(of: proxyConfiguration),
                readyFile: directory.proxyReadyFile, logger: logger)))
        }
        let routeFeed: RouteFeedService
        switch configuration.routeSource {
        case .redis(let redis):
            let feed = redis.feed(logger: logger)
            try await RedisRouteAccess.check(feed, role: .server, passwordInArguments: redis.passwordInArguments, logger: logger)
            routeFeed = .fromRedis(feed, routes: proxyTable, owners: owners, hub: feedHub, logger: logger)
        case .store:
            routeFeed = .fromStore(store, routes: proxyTable, owners: owners, hub: feedHub, logger: logger)
        }
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: routeFeed)] + proxyServices + [
            .init(service: monitor), .init(service: jobs), .init(service: tcpAPI), .init(service: socketAPI),
        ]
        if configuration.demo {
            try await DemoTool.prepare(tools: tools, store: store, accounts: accounts, webservices: monitor, logger: logger)
            let address = proxyConfiguration.http?.description ?? "?"
            logger.notice("demo: open http://\(address)/ (the tools) or http://\(address)/hello/ (the demo tool)")
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        // The local supervisor's empty control groups and exit files go; a grid keeps its own.
        (jobBackend as? LocalJobBackend)?.tidy()
    }

    func mailer() -> SMTPJobMailer? {
        guard let mail = configuration.mail else { return nil }
        let host = ProcessInfo.processInfo.hostName
        let domain = mail.domain ?? (host.isEmpty ? "localhost" : host)
        return SMTPJobMailer(
            client: SMTPClient(host: mail.relay.host, port: mail.relay.port, heloName: domain, logger: logger),
            from: mail.from ?? "kiln@\(domain)", domain: domain)
    }

    /// This very binary, which also serves `static` webservices and runs the proxy.
    public static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

extension RedisRouteSource {
    /// The feed of this source's routes.
    func feed(logger: Logger) -> RedisRouteFeed {
        RedisRouteFeed(
            url: url, prefix: prefix, resyncInterval: resyncInterval, configuresKeyspaceEvents: configuresKeyspaceEvents, logger: logger)
    }
}
