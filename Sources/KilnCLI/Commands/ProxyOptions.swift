import ArgumentParser
import KilnServer
import KilnCore
import KilnProxy
import NIOCore

/// The front proxy's flags, shared by `kiln serve` and `kiln proxy`.
struct ProxyOptions: ParsableArguments {
    @Option(help: "The proxy's plain-HTTP address.") var http: String = ServeDefaults.http
    @Option(help: "The proxy's HTTPS address ('off' for none).") var https: String = ServeDefaults.https
    @Option(help: "Tools are served at TOOL.DOMAIN.") var domain: String = ServeDefaults.domain
    @Option(
        help: """
            /TOOL/... on the domain: 'redirect' to https://TOOL.DOMAIN/... (each tool its own origin) or 'serve' \
            (every tool on one origin: cookies are shared). Default: redirect for a DNS name, serve for localhost or an IP.
            """)
    var pathRouting: PathRouting?
    @Flag(help: "Serve plain HTTP instead of redirecting it to HTTPS.") var allowHTTP = false
    @Option(help: "TLS certificate chain (PEM); without it a self-signed one is made.") var cert: String?
    @Option(help: "TLS private key (PEM).") var key: String?
    @Option(help: "Seconds a GET/HEAD waits for the backend's first byte.") var firstByteTimeoutRead: Int = 60
    @Option(help: "Seconds other methods wait for the backend's first byte.") var firstByteTimeoutWrite: Int = 200
    @Option(help: "The proxy's outer timeout for GET/HEAD (default: first-byte + 15 s).") var outerTimeoutRead: Int?
    @Option(help: "The proxy's outer timeout for other methods (default: first-byte + 15 s).") var outerTimeoutWrite: Int?
    @Option(help: "Largest request body for GET/HEAD, in bytes.") var maxBodyRead: Int = 1 << 20
    @Option(help: "Largest request body for other methods, in bytes.") var maxBodyWrite: Int = 128 << 20
    @Option(help: "Largest request head, in bytes.") var maxHeaderBytes: Int = 32 * 1024
    @Option(help: "Seconds to receive a request head once it has begun.") var headerTimeout: Int = 30
    @Option(help: "Seconds a keep-alive connection may idle.") var idleTimeout: Int = 75
    @Option(help: "Seconds a TLS connection may take to finish its handshake.") var tlsHandshakeTimeout: Int = 10
    @Option(help: "Seconds a client may read nothing of a response before its connection is closed.") var sendTimeout: Int = 60
    @Option(help: "Seconds a websocket (upgraded) connection may pass no byte before it is closed.") var tunnelIdleTimeout: Int = 3600
    @Option(help: "Seconds a backend may send nothing once its response has begun before it is cut off.") var backendStallTimeout: Int = 60
    @Option(help: "Requests per second one client address may keep up (0: no limit); past it, 429.") var rateLimit: Int = 100
    @Option(help: "Requests one client address may make at once above its rate.") var rateBurst: Int = 100
    @Option(help: "Connections one client address may hold open (0: no cap).") var maxConnectionsPerAddress: Int = 256
    @Flag(help: "Serve requests without a User-Agent (refused with 403 by default, as Toolforge's front does).")
    var allowNoUserAgent = false
    @Option(help: "Event-loop threads (default: one per core).") var proxyThreads: Int?
    @Option(help: "Seconds a backend that refused a connection is skipped while its pattern has others.")
    var backendCooldown: Int = 10
    @Option(
        help: """
            Serve the proxy's metrics (GET /metrics, Prometheus text) on this address, e.g. 127.0.0.1:9101, or 'off'. \
            A scrape brings the token of --proxy-metrics-token-file as 'Authorization: Bearer'.
            """)
    var proxyMetrics: String = "off"
    @Option(
        help: """
            A file (not readable by others) whose first line is the token scrapes of the proxy's metrics bring; \
            kiln serve's default is DATA/metrics.token, made at its first start.
            """)
    var proxyMetricsTokenFile: String?

    /// The token of --proxy-metrics-token-file, if given.
    func metricsToken() throws -> String? {
        try proxyMetricsTokenFile.map { try PasswordFile(path: $0).read() }
    }

    /// Where the proxy's metrics are served, if anywhere.
    func metricsAddress() throws -> HostPort? {
        proxyMetrics == "off" ? nil : try HostPort(parsing: proxyMetrics)
    }

    func configuration(dataDirectory: String?, forceAllowHTTP: Bool = false) throws -> ProxyConfiguration {
        guard (cert == nil) == (key == nil) else { throw CLIError.user("give both --cert and --key, or neither") }
        let tls: TLSSource? =
            if let cert, let key { .files(certificate: cert, key: key) } else { dataDirectory.map { .selfSigned(directory: $0) } }
        var timeouts = TimeoutPolicy(
            read: .init(
                firstByte: try Self.seconds(firstByteTimeoutRead, "first-byte-timeout-read"),
                outer: try Self.seconds(outerTimeoutRead ?? firstByteTimeoutRead.addingSaturated(15), "outer-timeout-read"),
                maxBodyBytes: maxBodyRead),
            write: .init(
                firstByte: try Self.seconds(firstByteTimeoutWrite, "first-byte-timeout-write"),
                outer: try Self.seconds(outerTimeoutWrite ?? firstByteTimeoutWrite.addingSaturated(15), "outer-timeout-write"),
                maxBodyBytes: maxBodyWrite),
            headerRead: try Self.seconds(headerTimeout, "header-timeout"), idle: try Self.seconds(idleTimeout, "idle-timeout"),
            maxHeaderBytes: maxHeaderBytes)
        timeouts.tlsHandshake = try Self.seconds(tlsHandshakeTimeout, "tls-handshake-timeout")
        timeouts.send = try Self.seconds(sendTimeout, "send-timeout")
        timeouts.tunnelIdle = try Self.seconds(tunnelIdleTimeout, "tunnel-idle-timeout")
        timeouts.backendStall = try Self.seconds(backendStallTimeout, "backend-stall-timeout")
        try timeouts.validate()
        let clientLimits = ClientLimitPolicy(
            requestsPerSecond: rateLimit, burst: rateBurst, connectionsPerAddress: maxConnectionsPerAddress,
            requiresUserAgent: !allowNoUserAgent)
        try clientLimits.validate()
        guard (0...Self.longestTimeout).contains(backendCooldown) else {
            throw CLIError.user("--backend-cooldown must be from 0 to \(Self.longestTimeout) seconds, not \(backendCooldown)")
        }
        return ProxyConfiguration(
            http: http == "off" ? nil : try HostPort(parsing: http),
            https: https == "off" ? nil : try HostPort(parsing: https),
            domain: domain.lowercased(), allowHTTP: allowHTTP || forceAllowHTTP, pathRouting: pathRouting, timeouts: timeouts,
            eventLoops: proxyThreads ?? System.coreCountForProxy,
            accessLogPath: dataDirectory.map { $0 + "/logs/access.log" }, tls: tls,
            ejectionCooldown: .seconds(Int64(backendCooldown)), clientLimits: clientLimits)
    }
}

extension ProxyOptions {
    /// A week: the longest any of the proxy's timeouts may be (beyond it a value is a typo, and
    /// nanoseconds of a huge one would overflow).
    static let longestTimeout = 7 * 24 * 3600

    static func seconds(_ value: Int, _ flag: String) throws -> TimeAmount {
        guard (1...longestTimeout).contains(value) else {
            throw CLIError.user("--\(flag) must be from 1 to \(longestTimeout) seconds, not \(value)")
        }
        return .seconds(Int64(value))
    }
}

extension Int {
    func addingSaturated(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}

extension PathRouting: ExpressibleByArgument {}
