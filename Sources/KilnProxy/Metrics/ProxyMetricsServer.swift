import KilnCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// `GET /metrics` of a proxy, on an address of its own and one event loop of its own, apart from
/// the proxy's listeners and loops: a scrape neither waits behind client traffic nor is reachable
/// through a tool's hostname. Anything else is 404. A proxy's replacement starts beside it, so
/// with `reusePort` both listen during the handover. Every scrape must bring the token
/// (`Authorization: Bearer`): the counts name tools, and tools run on the same machine.
public final class ProxyMetricsServer: Service, Sendable {
    let address: HostPort
    let token: String
    let metrics: ProxyMetrics
    let reusePort: Bool
    let logger: Logger
    let onListening: @Sendable (SocketAddress) -> Void

    public init(
        address: HostPort, token: String, metrics: ProxyMetrics, reusePort: Bool = false, logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.address = address
        self.token = token
        self.metrics = metrics
        self.reusePort = reusePort
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let metrics = self.metrics
        let token = self.token
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(ChannelOptions.socket(SocketOptionLevel(SOL_SOCKET), SO_REUSEPORT), value: reusePort ? 1 : 0)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(MetricsRequestHandler(metrics: metrics, token: token))
                    }
                }
                .bind(host: address.host, port: address.port).get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        if let local = channel.localAddress {
            logger.notice("proxy metrics listening", metadata: ["address": "\(local)"])
            onListening(local)
        }
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        try? await group.shutdownGracefully()
    }
}

/// Answers one connection's requests: the exposition for `GET /metrics`, 404 for anything else.
final class MetricsRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: ProxyMetrics
    private let token: String
    private var head: HTTPRequestHead?

    init(metrics: ProxyMetrics, token: String) {
        self.metrics = metrics
        self.token = token
    }

    /// Whether the request brings the token as `Authorization: Bearer TOKEN`.
    func isAuthorized(_ head: HTTPRequestHead) -> Bool {
        let fields = head.headers["authorization"]
        guard fields.count == 1, let field = fields.first, field.utf8.count > 7, field.prefix(7).lowercased() == "bearer " else { return false }
        return SecretComparison.equals(String(field.dropFirst(7)), token)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive
            guard head.method == .GET || head.method == .HEAD, head.uri == "/metrics" || head.uri.hasPrefix("/metrics?") else {
                respond(context: context, status: .notFound, body: "not found\n", keepAlive: keepAlive, includeBody: true)
                return
            }
            guard isAuthorized(head) else {
                respond(
                    context: context, status: .unauthorized, body: "a scrape needs Authorization: Bearer with the metrics token\n",
                    keepAlive: keepAlive, includeBody: head.method == .GET)
                return
            }
            let includeBody = head.method == .GET
            let metrics = self.metrics
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let promise = context.eventLoop.makePromise(of: String.self)
            promise.completeWithTask { try await metrics.collect().prometheusText }
            promise.futureResult.whenComplete { result in
                let (handler, context) = loopBound.value
                switch result {
                case .success(let text):
                    handler.respond(context: context, status: .ok, body: text, keepAlive: keepAlive, includeBody: includeBody)
                case .failure:
                    handler.respond(
                        context: context, status: .serviceUnavailable, body: "the proxy is stopping\n", keepAlive: false,
                        includeBody: includeBody)
                }
            }
        }
    }

    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, body: String, keepAlive: Bool, includeBody: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: status == .ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        if status == .unauthorized { headers.add(name: "WWW-Authenticate", value: "Bearer") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if includeBody { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil) }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { done.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
    }
}
