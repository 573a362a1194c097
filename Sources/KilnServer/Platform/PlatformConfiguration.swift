import KilnAccounts
import KilnCore
import KilnMonitor
import KilnRunner
import KilnProxy
import KilnRedis

/// Everything `kiln serve` is told, parsed and checked: the command line only makes one of these.
public struct PlatformConfiguration: Sendable {
    public var dataDirectory: String
    public var api: HostPort
    public var proxy: ProxyConfiguration
    public var routeSource: RouteSource
    public var unixUsers: HostAccounts.UserMode
    /// Create the demo tool `hello` and serve it.
    public var demo: Bool
    /// Mail jobs' ends through this relay.
    public var mail: MailRelay?
    /// Tests only: a file holding the time (seconds since 1970) the job scheduler goes by.
    public var clockFile: String?
    /// Where the proxy runs: a process of its own that the platform supervises (what operators
    /// run), or in this process (tests that boot the platform in process).
    public var proxyPlacement: ProxyPlacement
    /// Where the proxy's `GET /metrics` is served, if anywhere (in process: by this process).
    public var proxyMetrics: HostPort?
    /// The token a scrape of the proxy's metrics must bring (nil: DATA/metrics.token, made once).
    public var proxyMetricsToken: String?
    /// Where jobs run: this machine, or a batch grid (webservices too).
    public var jobBackend: JobBackendChoice
    /// Where webservice runners on a grid's execution hosts reach the API (nil: `api`).
    public var gridControlPlane: HostPort?
    /// Whether `buildservice` replicas on this host get networks of their own (port 8000).
    public var replicaNetwork: ReplicaNetworkChoice = .auto(.standard)

    public init(
        dataDirectory: String, api: HostPort, proxy: ProxyConfiguration, routeSource: RouteSource = .store,
        unixUsers: HostAccounts.UserMode = .auto, demo: Bool = false, mail: MailRelay? = nil, clockFile: String? = nil,
        proxyPlacement: ProxyPlacement = .inProcess, proxyMetrics: HostPort? = nil, proxyMetricsToken: String? = nil,
        jobBackend: JobBackendChoice = .local, gridControlPlane: HostPort? = nil
    ) {
        self.gridControlPlane = gridControlPlane
        self.jobBackend = jobBackend
        self.proxyMetrics = proxyMetrics
        self.proxyMetricsToken = proxyMetricsToken
        self.dataDirectory = dataDirectory
        self.api = api
        self.proxy = proxy
        self.routeSource = routeSource
        self.unixUsers = unixUsers
        self.demo = demo
        self.mail = mail
        self.clockFile = clockFile
        self.proxyPlacement = proxyPlacement
    }
}

/// Where the platform's routes live.
public enum RouteSource: Sendable {
    /// The embedded store (one machine).
    case store
    /// A shared Redis, for several proxies.
    case redis(RedisRouteSource)
}

/// Routes in Redis: where, under which prefix, how often resynced.
public struct RedisRouteSource: Sendable {
    public var url: RedisURL
    public var prefix: String
    public var resyncInterval: Duration?
    /// Kiln may change Redis' configuration (keyspace notifications).
    public var configuresKeyspaceEvents: Bool
    /// The password was given on the command line, where `ps` shows it (warned about).
    public var passwordInArguments: Bool

    public init(url: RedisURL, prefix: String, resyncInterval: Duration?, configuresKeyspaceEvents: Bool, passwordInArguments: Bool) {
        self.url = url
        self.prefix = prefix
        self.resyncInterval = resyncInterval
        self.configuresKeyspaceEvents = configuresKeyspaceEvents
        self.passwordInArguments = passwordInArguments
    }
}

/// An SMTP relay for jobs' mail.
public struct MailRelay: Sendable {
    public var relay: HostPort
    public var from: String?
    public var domain: String?

    public init(relay: HostPort, from: String?, domain: String?) {
        self.relay = relay
        self.from = from
        self.domain = domain
    }
}

/// Where a platform's proxy runs.
public enum ProxyPlacement: Sendable, Hashable {
    /// In the platform's process: a crash of either takes both.
    case inProcess
    /// A `kiln proxy` process of its own, fed with routes over the API's Unix socket, restarted
    /// when it dies and left serving when the platform stops or dies.
    case supervised(executable: String, arguments: [String])
}

extension PlatformConfiguration {
    /// Webservices on the grid of `jobBackend`, reached back at the API; nil on the local backend.
    func gridWebservices(backend: any JobBackend) throws(KilnError) -> GridWebservices? {
        switch jobBackend {
        case .local:
            return nil
        case .gridEngine, .slurm:
            let controlPlane = gridControlPlane ?? api
            guard !["0.0.0.0", "::", ""].contains(controlPlane.host) else {
                throw KilnError(
                    .invalidAddress,
                    "the API listens on every address (\(api)): say with --grid-api which address the grid's hosts reach it at",
                    context: ["field": "grid-api"])
            }
            let listeners = [api, controlPlane] + [proxy.http, proxy.https].compactMap { $0 }
            return GridWebservices(backend: backend, controlPlane: controlPlane, platformPorts: Set(listeners.map(\.port)))
        }
    }
}
