import KilnCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The front proxy as a service: listens on HTTP and HTTPS, serves until graceful shutdown.
public final class ProxyServer: Service, Sendable {
    let configuration: ProxyConfiguration
    let routes: RouteTableReference
    let notices: ToolNotices
    let owners: BackendOwners
    let logger: Logger
    let metrics: ProxyMetrics
    let frontPage: FrontPage?
    let onListening: @Sendable ([String: SocketAddress]) -> Void
    let listenWhen: @Sendable () async -> Void

    /// - Parameter listenWhen: returns when the proxy may take connections (its routes are
    ///   loaded): a proxy that shares its listening sockets with a serving one must not answer
    ///   from an empty table.
    /// - Parameter frontPage: what `/` shows (nil: nothing, 404).
    public init(
        configuration: ProxyConfiguration, routes: RouteTableReference, notices: ToolNotices = ToolNotices(),
        owners: BackendOwners = BackendOwners(resolver: nil), metrics: ProxyMetrics = ProxyMetrics(),
        frontPage: (any FrontPageSource)? = nil, logger: Logger,
        listenWhen: @escaping @Sendable () async -> Void = {},
        onListening: @escaping @Sendable ([String: SocketAddress]) -> Void = { _ in }
    ) throws(KilnError) {
        self.listenWhen = listenWhen
        try configuration.timeouts.validate()
        try configuration.clientLimits.validate()
        self.notices = notices
        self.owners = owners
        self.configuration = configuration
        self.routes = routes
        self.logger = logger
        self.metrics = metrics
        self.frontPage = frontPage.map { FrontPage(source: $0) }
        self.onListening = onListening
    }

    public func run() async throws {
        Self.raiseOpenFileLimit(logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoops)
        var pools: [ObjectIdentifier: LoopUpstreams] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = LoopUpstreams(
                eventLoop: loop, routes: routes, connectTimeout: configuration.timeouts.connect,
                ejectionCooldown: configuration.ejectionCooldown)
        }
        let poolByLoop = PoolDirectory(pools: pools)
        let accessLog = try configuration.accessLogPath.map { try AccessLog(path: $0) }
        let shared = ProxyShared(
            configuration: configuration, routes: routes, notices: notices, accessLog: accessLog, owners: owners, frontPage: frontPage)
        metrics.attach(
            loops: group.makeIterator().map { ($0, poolByLoop.upstreams(for: $0).metrics) }, connections: shared.connections,
            routes: routes)
        var channels: [any Channel] = []
        var listening: [String: SocketAddress] = [:]
        await listenWhen()
        do {
            if let http = configuration.http {
                let channel = try await listen(bootstrap(group: group, shared: shared, pools: poolByLoop, tls: nil), "http", http)
                channels.append(channel)
                listening["http"] = channel.localAddress
                logger.notice("proxy listening", metadata: ["http": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
            }
            if let https = configuration.https {
                let context = try TLSContextFactory.makeContext(configuration.tls, domain: configuration.domain, logger: logger)
                let channel = try await listen(bootstrap(group: group, shared: shared, pools: poolByLoop, tls: context), "https", https)
                channels.append(channel)
                listening["https"] = channel.localAddress
                logger.notice("proxy listening", metadata: ["https": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
            }
            switch configuration.pathRouting {
            case .redirect:
                logger.notice(
                    "path routing: /TOOL/... is redirected to the tool's own origin",
                    metadata: ["location": "https://TOOL.\(configuration.domain)/..."])
            case .serve:
                logger.notice(
                    "path routing: /TOOL/... is served; every tool shares one web origin (cookies, storage)",
                    metadata: ["domain": "\(configuration.domain)"])
            }
            onListening(listening)
            let reporter = PatternLimitReporter(logger: logger)
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await reporter.run() }
                try? await gracefulShutdown()
                group.cancelAll()
            }
        } catch {
            for channel in channels { try? await channel.close() }
            accessLog?.close()
            try? await group.shutdownGracefully()
            throw error
        }
        // Stop taking connections (a replacement may already take them on the same addresses),
        // then let the open ones finish what they serve, up to the drain timeout.
        for channel in channels { try? await channel.close() }
        shared.beginDraining()
        let deadline = ContinuousClock.now + configuration.drainTimeout
        while shared.connections.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if shared.connections.count > 0 {
            logger.notice("proxy: closing the connections still open after the drain timeout", metadata: ["open": "\(shared.connections.count)"])
            shared.connections.closeAll()
        }
        accessLog?.close()
        try await group.shutdownGracefully()
    }

    /// SETTINGS_MAX_CONCURRENT_STREAMS of every HTTP/2 connection.
    static let maxConcurrentStreams = 100

    /// A proxy holds a descriptor per client connection and one per backend connection: the soft
    /// limit (often 1024) is raised to the hard one, as nginx's `worker_rlimit_nofile` does.
    static func raiseOpenFileLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        if setrlimit(RLIMIT_NOFILE_VALUE, &limit) != 0 {
            logger.warning("cannot raise the open-file limit", metadata: ["hard": "\(limit.rlim_max)"])
        }
    }

    /// Listens on the socket handed over for `name`, or binds `address`.
    private func listen(_ bootstrap: ServerBootstrap, _ name: String, _ address: HostPort) async throws -> any Channel {
        if let descriptor = configuration.inheritedListeners.descriptors[name] {
            return try await bootstrap.withBoundSocket(descriptor).get()
        }
        return try await bootstrap.bind(host: address.host, port: address.port).get()
    }

    private func bootstrap(
        group: MultiThreadedEventLoopGroup, shared: ProxyShared, pools: PoolDirectory, tls: NIOSSLContext?
    ) -> ServerBootstrap {
        let timeouts = configuration.timeouts
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.socket(SocketOptionLevel(SOL_SOCKET), SO_REUSEPORT), value: configuration.reusePort ? 1 : 0)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 256 * 1024))
            .childChannelInitializer { channel in
                // One address holds at most so many connections (refused at once past it).
                if let address = ClientAddress(channel.remoteAddress) {
                    guard shared.clientLimits.connectionOpened(address) else {
                        pools.upstreams(for: channel.eventLoop).metrics.refused(.connectionLimit)
                        return channel.eventLoop.makeFailedFuture(ClientLimitRefusal.tooManyConnections)
                    }
                    channel.closeFuture.whenComplete { _ in shared.clientLimits.connectionClosed(address) }
                }
                shared.connections.add(channel)
                let upstreams = pools.upstreams(for: channel.eventLoop)
                guard let tls else {
                    return channel.eventLoop.makeCompletedFuture {
                        try Self.configureHTTP1(channel.pipeline.syncOperations, shared: shared, upstreams: upstreams, scheme: "http", timeouts: timeouts)
                    }
                }
                do {
                    try channel.pipeline.syncOperations.addHandlers([
                        NIOSSLServerHandler(context: tls), TLSHandshakeTimeoutHandler(timeout: timeouts.tlsHandshake),
                        SendTimeoutHandler(timeout: timeouts.send),
                    ])
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
                return channel.configureHTTP2SecureUpgrade(
                    h2ChannelConfigurator: { channel in
                        // At most 100 streams at once (RFC 9113's recommended floor, and nginx's), and
                        // a connection with no frame either way for the idle timeout is closed.
                        channel.configureHTTP2Pipeline(
                            mode: .server,
                            initialLocalSettings: nioDefaultSettings.filter { $0.parameter != .maxConcurrentStreams }
                                + [HTTP2Setting(parameter: .maxConcurrentStreams, value: Self.maxConcurrentStreams)],
                            inboundStreamInitializer: { stream in
                            stream.eventLoop.makeCompletedFuture {
                                try stream.pipeline.syncOperations.addHandlers([
                                    HTTP2FramePayloadToHTTP1ServerCodec(),
                                    ProxyHandler(shared: shared, upstreams: upstreams, scheme: "https", isHTTP2Stream: true),
                                ])
                            }
                        }).flatMap { _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandlers([
                                    IdleStateHandler(allTimeout: timeouts.idle), CloseOnIdleHandler(), HTTP2DrainHandler(),
                                ])
                            }
                        }
                    },
                    http1ChannelConfigurator: { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try Self.configureHTTP1(
                                channel.pipeline.syncOperations, shared: shared, upstreams: upstreams, scheme: "https", timeouts: timeouts)
                        }
                    })
            }
    }

    /// An HTTP/1 connection starts on the fast path, which hands it to the general path at the
    /// first request it does not take.
    static func configureHTTP1(
        _ pipeline: ChannelPipeline.SynchronousOperations, shared: ProxyShared, upstreams: LoopUpstreams, scheme: String,
        timeouts: TimeoutPolicy
    ) throws {
        try pipeline.addHandler(ConnectionTimeoutHandler(headerRead: timeouts.headerRead, idle: timeouts.idle))
        // Over TLS the send timeout sits below TLS already.
        if scheme == "http" { try pipeline.addHandler(SendTimeoutHandler(timeout: timeouts.send)) }
        try pipeline.addHandler(FastPathHandler(shared: shared, upstreams: upstreams, scheme: scheme))
    }

    /// The general HTTP/1 path: NIOHTTP1's codec and the proxy handler, appended to the pipeline.
    static func addGeneralHTTP1Path(
        _ pipeline: ChannelPipeline.SynchronousOperations, shared: ProxyShared, upstreams: LoopUpstreams, scheme: String
    ) throws {
        let timeouts = shared.configuration.timeouts
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = max(timeouts.maxHeaderBytes, 1024)
        limits.maxHeaderListSize = max(timeouts.maxHeaderBytes, 1024)
        try pipeline.configureHTTPServerPipeline(
            withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
            withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
        try pipeline.addHandler(ProxyHandler(shared: shared, upstreams: upstreams, scheme: scheme))
    }
}

/// Each event loop's upstream pool, found by the loop a connection lives on.
struct PoolDirectory: @unchecked Sendable {
    // Built once before any connection; only read afterwards, and each pool is used on its own loop.
    let pools: [ObjectIdentifier: LoopUpstreams]

    func upstreams(for loop: any EventLoop) -> LoopUpstreams {
        guard let pool = pools[ObjectIdentifier(loop)] else { preconditionFailure("no upstream pool for \(loop)") }
        return pool
    }
}

#if canImport(Glibc)
import Glibc
/// RLIMIT_NOFILE, as Glibc imports it (an enum case of __rlimit_resource on Linux).
let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#endif
