import ArgumentParser
import Foundation
import KilnCore
import KilnProxy
import KilnServer
import Logging

/// `kiln serve-proxy SERVE-ARGUMENTS…` (hidden): the proxy process that `kiln serve` starts and
/// supervises. It reads `kiln serve`'s own arguments, so its flags mean what they meant there,
/// follows the control plane's route feed over the data directory's Unix socket, listens on the
/// sockets the supervisor hands it (`InheritedListeners`), and says when it is ready.
struct ServeProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve-proxy", shouldDisplay: false)

    @Argument(parsing: .allUnrecognized) var serveArguments: [String] = []

    func run() async throws {
        let serve = try ServeCommand.parse(serveArguments)
        let directory = URL(fileURLWithPath: serve.data).standardizedFileURL.path
        var configuration = try serve.proxy.configuration(dataDirectory: directory, forceAllowHTTP: serve.demo)
        configuration.reusePort = true
        if let listeners = ProcessInfo.processInfo.environment[InheritedListeners.environmentName] {
            configuration.inheritedListeners = try InheritedListeners(environmentValue: listeners)
            // Not for anything this process might start.
            unsetenv(InheritedListeners.environmentName)
        }
        var logger = Logger(label: "kiln.proxy")
        logger.logLevel = Logger.Level(rawValue: serve.logLevel) ?? .info
        let socket = directory + "/" + ServeDefaults.socketName
        try await ProxyNode(
            configuration: configuration, feed: .controlPlane(ControlPlaneFeedSource(endpoint: .unixSocket(path: socket))),
            dataDirectory: directory, metricsAddress: try serve.proxy.metricsAddress(),
            metricsToken: try serve.proxy.metricsToken() ?? PasswordFile(path: directory + "/" + ServeDefaults.metricsTokenName).read(), readyFile: ProxyReadyFile(path: directory + "/" + ServeDefaults.proxyReadyName), logger: logger
        ).run()
    }
}
