import ArgumentParser
import Foundation
import Hummingbird
import KilnCore
import Logging

/// `kiln static-server`: what a `static` webservice runs, as the tool's user: the files of
/// `public_html/` under `/TOOL/` (the proxy passes paths on unchanged) and under `/` (host routing).
struct StaticServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "static-server", abstract: "Serve a folder of static files (a static webservice's server).",
        shouldDisplay: false)

    @Option(help: "The folder to serve.") var root: String
    @Option(help: "The path prefix it is also served under, such as /TOOL.") var prefix: String?
    @Option(help: "HOST:PORT to listen on.") var bind: String

    func run() async throws {
        let address = try HostPort(parsing: bind)
        var logger = Logger(label: "kiln.static")
        logger.logLevel = .notice
        let router = Router()
        if let prefix, prefix.count > 1 {
            router.add(middleware: FileMiddleware(root, urlBasePath: prefix, searchForIndexHtml: true, logger: logger))
        }
        router.add(middleware: FileMiddleware(root, searchForIndexHtml: true, logger: logger))
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "kiln-static"),
            logger: logger)
        try await application.runService()
    }
}
