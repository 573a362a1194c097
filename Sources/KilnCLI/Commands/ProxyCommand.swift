import ArgumentParser
import Foundation
import KilnServer
import Logging

/// `kiln proxy`: a front proxy alone (`run`, the default), or `reload` of the proxy process that
/// `kiln serve` supervises.
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy", abstract: "Run a front proxy alone, or replace kiln serve's proxy without a gap.",
        subcommands: [ProxyRunCommand.self, ProxyReloadCommand.self], defaultSubcommand: ProxyRunCommand.self)
}

/// `kiln proxy [run]`: a proxy alone, its routes from a shared Redis (several proxies share one
/// table) or from a control plane's route feed over its API (a proxy on another machine).
struct ProxyRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a front proxy alone, with its routes from Redis or from a control plane.")

    @OptionGroup var proxy: ProxyOptions
    @OptionGroup var routeSource: RouteSourceOptions
    @Option(help: "Follow this control plane's route feed (http://HOST:PORT of its API) instead of Redis.")
    var controlPlane: String?
    @Option(help: "A file (not readable by others) whose first line is the control plane's admin token.")
    var tokenFile: String?
    @Option(help: "Where the proxy keeps its self-signed certificate and access log.") var data: String = "./.kiln-proxy-data"
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "info"

    func run() async throws {
        var logger = Logger(label: "kiln.proxy")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let feed: ProxyNode.Feed
        switch (try routeSource.source(), controlPlane) {
        case (.redis(let redis), nil):
            feed = .redis(redis)
        case (.store, let controlPlane?):
            guard let tokenFile else { throw CLIError.user("--control-plane needs --token-file with the control plane's admin token") }
            feed = .controlPlane(try ControlPlaneFeedSource(parsing: controlPlane, token: try PasswordFile(path: tokenFile).read()))
        case (.redis, _?):
            throw CLIError.user("give --routes or --control-plane, not both")
        case (.store, nil):
            throw CLIError.user(
                "kiln proxy needs --routes redis://[USER:PASSWORD@]HOST:PORT[/DB] or --control-plane http://HOST:PORT: a proxy alone has no store of its own")
        }
        let directory = URL(fileURLWithPath: data).standardizedFileURL.path
        let metricsAddress = try proxy.metricsAddress()
        let metricsToken = try proxy.metricsToken()
        if metricsAddress != nil && metricsToken == nil {
            throw CLIError.user("--proxy-metrics needs --proxy-metrics-token-file: the metrics name tools, and every scrape brings the token")
        }
        try await ProxyNode(
            configuration: try proxy.configuration(dataDirectory: directory), feed: feed, dataDirectory: directory,
            metricsAddress: metricsAddress, metricsToken: metricsToken ?? "", routeCache: ProxyRouteCache(directory: directory), logger: logger
        ).run()
    }
}

/// `kiln proxy reload`: SIGHUP to the `kiln serve` of a data directory, which starts a new proxy
/// process beside the old one and lets the old one drain once the new one serves.
struct ProxyReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Replace kiln serve's proxy process without dropping a request (as kill -HUP does).")

    @Option(help: "The data directory of the kiln serve whose proxy to replace.") var data: String = ServeDefaults.dataDirectory

    func run() throws {
        let directory = URL(fileURLWithPath: data).standardizedFileURL.path
        let pid = try ServerProcess.running(in: directory)
        guard kill(pid, SIGHUP) == 0 else {
            throw CLIError.user("cannot signal kiln serve (pid \(pid)): \(String(cString: strerror(errno)))")
        }
        print("kiln serve (pid \(pid)) is replacing its proxy")
    }
}
