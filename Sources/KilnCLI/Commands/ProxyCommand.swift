import ArgumentParser
import Foundation
import KilnServer
import Logging

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
        guard case .redis(let redis) = try routeSource.source() else {
            throw CLIError.user(
                "kiln proxy needs --routes redis://[USER:PASSWORD@]HOST:PORT[/DB]: a proxy alone has no store of its own")
        }
        let directory = URL(fileURLWithPath: data).standardizedFileURL.path
        try await ProxyNode(
            configuration: try proxy.configuration(dataDirectory: directory), feed: .redis(redis), dataDirectory: directory,
            metricsAddress: try proxy.metricsAddress(), logger: logger
        ).run()
    }
}
