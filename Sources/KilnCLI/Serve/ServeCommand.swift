import ArgumentParser
import Foundation
import Hummingbird
import KilnAPI
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

/// `kiln serve`: the whole platform on one machine, as one group of services that start together
/// and stop gracefully on SIGINT or SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the platform (API, proxy, runners) on embedded defaults.")

    @Option(help: "The data directory.") var data: String = ServeDefaults.dataDirectory
    @Option(help: "The control-plane API's address.") var api: String = ServeDefaults.api
    @OptionGroup var proxy: ProxyOptions
    @OptionGroup var routeSource: RouteSourceOptions
    @Option(help: "Give every tool its own Unix user: auto (when root), on, off (single-user mode: not as root).")
    var unixUsers: HostAccounts.UserMode = .auto
    @Flag(help: "Create the demo tool 'hello' and serve it (implies --allow-http).") var demo = false
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "info"
    @Option(help: "Mail jobs' ends to maintainers through this SMTP relay (HOST:PORT).") var smtp: String?
    @Option(help: "The sender of jobs' mail (default kiln@HOSTNAME).") var mailFrom: String?
    @Option(help: "The domain of maintainers named without one (default: this host's name).") var mailDomain: String?
    // Tests only: a file holding the time (seconds since 1970) the job scheduler goes by.
    @Option(help: .hidden) var clockFile: String?

    func run() async throws {
        let logger = makeLogger()
        let apiAddress = try HostPort(parsing: api)
        let directory = try DataDirectory(path: data)
        // Every process of a tool's begins with it: refuse now rather than at the first start.
        _ = try ProcessEntry.helper()
        let accounts = try HostAccounts(dataDirectory: directory.path, userMode: unixUsers, logger: logger)
        if accounts.managesUnixUsers {
            try directory.checkHomesReachable()
        } else {
            logger.warning(
                "single-user mode: tools run as this server's own user (uid \(geteuid())), not apart from each other or from the platform; run kiln serve as root to give every tool its own Unix user")
        }
        try PrivateDirectory.ensure(directory.logsPath, mode: 0o700, owner: .process)
        let proxyConfiguration = try proxy.configuration(dataDirectory: directory.path, forceAllowHTTP: demo)
        try directory.removeStaleSocket()
        let adminToken = try directory.adminToken()
        try directory.restrictStore()
        let store = try KilnStore(path: directory.storePath, logger: logger)
        let tools = ToolService(store: store, accounts: accounts, logger: logger)
        // Before anything of a tool runs, it has a user of its own (tools stored without one get one).
        try await tools.ensureIdentities()
        guard let runtimeDirectory = RuntimeDirectory.prepare(tag: InstanceTag.of(directory.path), fallback: directory.runtimeFallbackPath)
        else {
            throw KilnError(.storage, "cannot make a runtime folder of the platform's own in /dev/shm or \(directory.runtimeFallbackPath)")
        }
        let redisURL = try routeSource.redisURL()
        let registry: any RouteRegistry =
            if let redisURL {
                RedisRouteRegistry(store: RedisRouteStore(url: redisURL, prefix: routeSource.routesPrefix, logger: logger))
            } else {
                StoreRouteRegistry(store: store)
            }
        let notices = ToolNotices()
        let monitor = WebserviceMonitor(
            store: store, registrar: RegistryBackendRegistrar(registry: registry), homeOf: { accounts.home(of: $0) },
            kilnExecutable: Self.executablePath(), runtimeDirectory: runtimeDirectory, logger: logger,
            onFailureChange: { tool, reason in notices.set(reason, for: tool.rawValue) })
        let jobBackend = LocalJobBackend(instance: accounts.toolsDirectory, runtimeDirectory: runtimeDirectory)
        let jobs = JobMonitor(
            store: store, backend: jobBackend,
            clock: clockFile.map { FileJobClock(path: $0) as any JobClock } ?? SystemJobClock(), mailer: try mailer(logger: logger),
            homeOf: { accounts.home(of: $0) }, logger: logger)
        let router = ControlPlaneRouter.build(
            authenticator: Authenticator(adminToken: adminToken, store: store), tools: tools, store: store,
            routes: registry, webservices: monitor, jobs: jobs,
            routeBackends: RouteBackendAdmission(
                store: store,
                policy: RouteBackendPolicy(
                    serverUID: geteuid(), serverListeners: [apiAddress] + [proxyConfiguration.http, proxyConfiguration.https].compactMap { $0 })))

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

        let routeTable = RouteTableReference()
        let owners = BackendOwners(resolver: StoreBackendOwnerResolver(store: store, serverUID: geteuid()))
        let routeFeed: RouteFeedService
        if let redisURL {
            let feed = RedisRouteFeed(
                url: redisURL, prefix: routeSource.routesPrefix, resyncInterval: routeSource.resyncInterval,
                configuresKeyspaceEvents: routeSource.redisConfigure, logger: logger)
            try await RedisRouteAccess.check(
                feed, role: .server, passwordInArguments: routeSource.passwordInArguments, logger: logger)
            routeFeed = .fromRedis(feed, routes: routeTable, owners: owners, logger: logger)
        } else {
            routeFeed = .fromStore(store, routes: routeTable, owners: owners, logger: logger)
        }
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: routeFeed),
            .init(
                service: try ProxyServer(
                    configuration: proxyConfiguration, routes: routeTable, notices: notices, owners: owners, logger: logger)),
            .init(service: monitor), .init(service: jobs), .init(service: tcpAPI), .init(service: socketAPI),
        ]
        if demo {
            try await DemoTool.prepare(tools: tools, store: store, accounts: accounts, webservices: monitor, logger: logger)
            logger.notice("demo: open http://\(proxyConfiguration.http?.description ?? "?")/hello/")
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        jobBackend.tidy()
    }

    func mailer(logger: Logger) throws -> SMTPJobMailer? {
        guard let smtp else { return nil }
        let relay = try HostPort(parsing: smtp)
        let host = ProcessInfo.processInfo.hostName
        let domain = mailDomain ?? (host.isEmpty ? "localhost" : host)
        return SMTPJobMailer(
            client: SMTPClient(host: relay.host, port: relay.port, heloName: domain, logger: logger),
            from: mailFrom ?? "kiln@\(domain)", domain: domain)
    }

    /// This very binary, which also serves `static` webservices.
    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    func makeLogger() -> Logger {
        var logger = Logger(label: "kiln")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        return logger
    }
}

extension HostAccounts.UserMode: ExpressibleByArgument {}
