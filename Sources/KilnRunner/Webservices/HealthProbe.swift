import KilnCore
import KilnSocketOwners
import NIOCore
import NIOHTTP1
import NIOPosix

/// Asks a replica's server for its health-check path, as the proxy would: any HTTP answer below
/// 500 means it is up (a 404 on `/` is a server that answers; a 502 is not). A probe trusts only
/// the tool's own listener: a port squatted by someone else is no answer.
public enum HealthProbe {
    /// Asks the kernel whose listener a probe reached.
    static let socketOwners = SocketOwnerLookup()

    /// The status of one GET, or nil when nothing answered within `timeout` or the listener
    /// that answered is not `owner`'s.
    public static func status(
        of backend: HostPort, path: String, host: String, owner: BackendOwner, timeout: TimeAmount = .seconds(2),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async -> Int? {
        let promise = group.any().makePromise(of: Int.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(StatusHandler(promise: promise))
                    }
                }
                .connect(host: backend.host, port: backend.port).get()
        } catch {
            promise.fail(error)
            return nil
        }
        guard socketOwners.admits(channel, expected: owner) else {
            // Closing fails the promise (the handler hears the channel go inactive).
            channel.close(promise: nil)
            return nil
        }
        let deadline = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: host)
        head.headers.add(name: "User-Agent", value: "kiln-health-check")
        head.headers.add(name: "Connection", value: "close")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        return try? await promise.futureResult.get()
    }

    /// Whether the server answers with a status below 500.
    public static func isHealthy(
        _ backend: HostPort, path: String, host: String, owner: BackendOwner, timeout: TimeAmount = .seconds(2)
    ) async -> Bool {
        guard let status = await status(of: backend, path: path, host: host, owner: owner, timeout: timeout) else { return false }
        return status < 500
    }

    /// Probes every `interval` until the server is healthy, `deadline` passes, or `giveUp` says
    /// the process is gone; returns whether it became healthy.
    public static func waitUntilHealthy(
        _ backend: HostPort, path: String, host: String, owner: BackendOwner, within limit: Duration,
        interval: Duration = .milliseconds(50)
    ) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline, !Task.isCancelled {
            if await isHealthy(backend, path: path, host: host, owner: owner, timeout: .milliseconds(1000)) { return true }
            try? await Task.sleep(for: interval)
        }
        return false
    }

    final class StatusHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<Int>

        init(promise: EventLoopPromise<Int>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head(let head) = unwrapInboundIn(data) {
                promise.succeed(Int(head.status.code))
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(ChannelError.eof)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }
    }
}
