import ArgumentParser
import Foundation
import KilnAccounts
import KilnCore
import KilnServer
import Logging

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
    @Option(
        help: """
            Where the proxy runs: 'process', a process of its own that kiln serve supervises and that keeps serving             while the control plane is down (SIGHUP replaces it without a gap), or 'in-process'.
            """)
    var proxyProcess: ProxyProcessMode = .process
    @Option(help: "Where jobs and webservices run: local, gridengine (Son of Grid Engine) or slurm.")
    var backend: BackendName = .local
    @Option(help: "The grid's queue (gridengine) or partition (slurm); the grid's default without it.")
    var gridQueue: String?
    @Option(help: "HOST:PORT at which the grid's hosts reach the API, for webservice runners (default: --api).")
    var gridApi: String?
    @Option(
        help: """
            Networks of their own for buildservice replicas, each on port 8000: auto (where this host can: root, \
            iproute2, nftables), namespaces (or refuse to start), host (the host's network, a port each).
            """)
    var replicaNetwork: ReplicaNetworkMode = .auto
    @Option(help: "The private IPv4 block replicas' networks take addresses from (a /31 each).")
    var replicaSubnet: String = ReplicaSubnet.standard.description

    enum ReplicaNetworkMode: String, ExpressibleByArgument, CaseIterable {
        case auto, namespaces, host
    }

    /// The replicas' networks asked for.
    func replicaNetworkChoice() throws -> ReplicaNetworkChoice {
        let subnet: ReplicaSubnet
        do {
            subnet = try ReplicaSubnet(parsing: replicaSubnet)
        } catch {
            throw ValidationError("--replica-subnet: \(error.message)")
        }
        switch replicaNetwork {
        case .auto: return .auto(subnet)
        case .namespaces: return .namespaces(subnet)
        case .host: return .host
        }
    }

    enum BackendName: String, ExpressibleByArgument, CaseIterable {
        case local, gridengine, slurm
    }

    /// The backend asked for; a queue only goes with a grid.
    func jobBackend() throws -> JobBackendChoice {
        switch backend {
        case .local:
            if gridQueue != nil { throw ValidationError("--grid-queue goes with --backend gridengine or slurm") }
            return .local
        case .gridengine: return .gridEngine(queue: try gridQueue.map(Self.checkedQueue))
        case .slurm: return .slurm(partition: try gridQueue.map(Self.checkedQueue))
        }
    }

    /// A queue's name goes to qsub and sbatch as one argument: letters, digits and `._-@` only.
    static func checkedQueue(_ name: String) throws -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")
        guard !name.isEmpty, name.count <= 64, name.allSatisfy(allowed.contains), name.first != "-" else {
            throw ValidationError("--grid-queue: '\(name)' is not a queue name (letters, digits, '.', '_', '-', '@')")
        }
        return name
    }

    enum ProxyProcessMode: String, ExpressibleByArgument, CaseIterable {
        case process
        case inProcess = "in-process"
    }

    func run() async throws {
        let directory = URL(fileURLWithPath: data).standardizedFileURL.path
        var configuration = PlatformConfiguration(
            dataDirectory: directory, api: try HostPort(parsing: api),
            proxy: try proxy.configuration(dataDirectory: directory, forceAllowHTTP: demo),
            routeSource: try routeSource.source(), unixUsers: unixUsers, demo: demo,
            mail: try smtp.map { MailRelay(relay: try HostPort(parsing: $0), from: mailFrom, domain: mailDomain) }, clockFile: clockFile,
            proxyPlacement: placement(), proxyMetrics: proxyProcess == .inProcess ? try proxy.metricsAddress() : nil,
            proxyMetricsToken: try proxy.metricsToken(), jobBackend: try jobBackend(),
            gridControlPlane: try gridApi.map { text in
                guard backend != .local else { throw ValidationError("--grid-api goes with --backend gridengine or slurm") }
                return try HostPort(parsing: text)
            })
        configuration.replicaNetwork = try replicaNetworkChoice()
        var logger = Logger(label: "kiln")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        try await Platform(configuration: configuration, logger: logger).run()
    }

    /// The proxy's process runs `kiln serve-proxy` with this command's own arguments, so it reads
    /// the proxy's flags exactly as they were given here.
    func placement() -> ProxyPlacement {
        switch proxyProcess {
        case .inProcess:
            return .inProcess
        case .process:
            let given = Array(CommandLine.arguments.dropFirst())
            let serveArguments = given.first == "serve" ? Array(given.dropFirst()) : given
            return .supervised(executable: Platform.executablePath, arguments: [ServeProxyCommand.configuration.commandName ?? "serve-proxy"] + serveArguments)
        }
    }
}

extension HostAccounts.UserMode: ExpressibleByArgument {}
