import ArgumentParser
import Foundation
import KilnAccounts
import KilnCore
import KilnProxy
import KilnRedis
import Logging
import ServiceLifecycle

/// `kiln proxy`: a front proxy alone, fed from a shared Redis, so several can serve one platform.
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy", abstract: "Run a front proxy alone, with its routes from Redis.")

    @OptionGroup var proxy: ProxyOptions
    @OptionGroup var routeSource: RouteSourceOptions
    @Option(help: "Where the proxy keeps its self-signed certificate and access log.") var data: String = "./.kiln-proxy-data"
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "info"

    func run() async throws {
        var logger = Logger(label: "kiln.proxy")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        guard let url = try routeSource.redisURL() else {
            throw CLIError.user(
                "kiln proxy needs --routes redis://[USER:PASSWORD@]HOST:PORT[/DB]: a proxy alone has no store of its own")
        }
        let directory = URL(fileURLWithPath: data).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: directory + "/logs", withIntermediateDirectories: true)
        let configuration = try proxy.configuration(dataDirectory: directory)
        let routes = RouteTableReference()
        let feed = RedisRouteFeed(
            url: url, prefix: routeSource.routesPrefix, resyncInterval: routeSource.resyncInterval,
            configuresKeyspaceEvents: routeSource.redisConfigure, logger: logger)
        try await RedisRouteAccess.check(
            feed, role: .proxy, passwordInArguments: routeSource.passwordInArguments, logger: logger)
        let owners = BackendOwners(resolver: AccountBackendOwnerResolver(userPrefix: UnixAccountName.prefix))
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: RouteFeedService.fromRedis(feed, routes: routes, owners: owners, logger: logger)),
                    .init(service: try ProxyServer(configuration: configuration, routes: routes, owners: owners, logger: logger)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
