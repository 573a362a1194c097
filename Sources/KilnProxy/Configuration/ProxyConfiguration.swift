import KilnCore
import NIOCore

/// How one proxy process serves: where it listens, for which domain, with which limits.
public struct ProxyConfiguration: Sendable {
    public var http: HostPort?
    public var https: HostPort?
    public var domain: String
    /// Serve plain HTTP instead of redirecting it to HTTPS (local use, benchmarks).
    public var allowHTTP: Bool
    /// Whether `/TOOL/...` on a host that names no tool is served or sent to `TOOL.DOMAIN`.
    public var pathRouting: PathRouting
    public var timeouts: TimeoutPolicy
    /// Event loops (threads) for connections; defaults to the number of cores.
    public var eventLoops: Int
    public var accessLogPath: String?
    public var tls: TLSSource?
    /// How long a backend whose connect failed is skipped while its pattern has other backends.
    public var ejectionCooldown: TimeAmount
    /// Listen with `SO_REUSEPORT`, so a new proxy process can take new connections on the same
    /// addresses while the old one drains (a restart without refused connections).
    public var reusePort = false
    /// Listening sockets handed over by a supervisor, used instead of binding `http` and `https`.
    public var inheritedListeners = InheritedListeners()
    /// What one client address may ask: requests per second, open connections, a User-Agent.
    public var clientLimits: ClientLimitPolicy
    /// How long a stopping proxy lets its open connections finish before it closes them.
    public var drainTimeout: Duration = .seconds(30)

    public init(
        http: HostPort?, https: HostPort?, domain: String, allowHTTP: Bool = false,
        pathRouting: PathRouting? = nil, timeouts: TimeoutPolicy = TimeoutPolicy(), eventLoops: Int = System.coreCountForProxy,
        accessLogPath: String? = nil, tls: TLSSource? = nil, ejectionCooldown: TimeAmount = .seconds(10),
        clientLimits: ClientLimitPolicy = ClientLimitPolicy()
    ) {
        self.clientLimits = clientLimits
        self.http = http
        self.https = https
        self.domain = domain
        self.allowHTTP = allowHTTP
        self.pathRouting = pathRouting ?? .default(forDomain: domain)
        self.timeouts = timeouts
        self.eventLoops = eventLoops
        self.accessLogPath = accessLogPath
        self.tls = tls
        self.ejectionCooldown = ejectionCooldown
    }
}

/// Where the HTTPS certificate comes from.
public enum TLSSource: Sendable, Hashable {
    /// PEM files given by the operator.
    case files(certificate: String, key: String)
    /// A self-signed certificate for the domain and `*.DOMAIN`, made once and kept in a directory.
    case selfSigned(directory: String)
}

public enum System {
    public static var coreCountForProxy: Int {
        max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}

#if canImport(Glibc)
import Glibc
#endif
