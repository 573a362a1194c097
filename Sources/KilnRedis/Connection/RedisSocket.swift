import KilnCore
import NIOCore
import NIOPosix

/// The TCP connection under both kinds of Redis client: RESP codec, then a client's own handler.
enum RedisSocket {
    static func connect(
        to url: RedisURL, timeout: TimeAmount, group: any EventLoopGroup,
        handler makeHandler: @escaping @Sendable () -> any ChannelHandler
    ) async throws(KilnError) -> any Channel {
        do {
            return try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                // Commands are small and latency matters more than segment count.
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                // A subscriber may sit idle for hours; keepalive lets the kernel notice a dead peer.
                .channelOption(.socketOption(.so_keepalive), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(RESPDecoder()),
                            MessageToByteHandler(RESPEncoder()),
                            makeHandler(),
                        ])
                    }
                }
                .connect(host: url.host, port: url.port).get()
        } catch {
            throw KilnError(.unavailable, "cannot connect to Redis at \(url): \(error)", context: ["redis": "\(url)"])
        }
    }

    /// A failure of the connection itself (not a command's error reply), as callers see it.
    static func connectionError(_ error: any Error) -> KilnError {
        if let error = error as? KilnError { return error }
        return KilnError(.unavailable, "the connection to Redis failed: \(error)")
    }

    static let closedError = KilnError(.unavailable, "the connection to Redis is closed")
}
