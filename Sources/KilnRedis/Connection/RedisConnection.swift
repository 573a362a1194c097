import KilnCore
import NIOCore
import NIOPosix

/// One connection to a Redis server: commands, pipelined, answered in order. A subscriber
/// connection also delivers published messages to `pushes`.
public final class RedisConnection: Sendable {
    let channel: any Channel
    /// Messages pushed by the server (pub/sub), for connections made with `subscriber: true`.
    public let pushes: AsyncStream<RESPValue>

    private init(channel: any Channel, pushes: AsyncStream<RESPValue>) {
        self.channel = channel
        self.pushes = pushes
    }

    /// Connects (and selects the database) or fails within `timeout`.
    public static func connect(
        to url: RedisURL, subscriber: Bool = false, timeout: TimeAmount = .seconds(2),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(KilnError) -> RedisConnection {
        let (stream, continuation) = AsyncStream<RESPValue>.makeStream(bufferingPolicy: .bufferingNewest(100_000))
        let pushes = subscriber ? continuation : nil
        if !subscriber { continuation.finish() }
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder()))
                        try channel.pipeline.syncOperations.addHandler(RedisHandler(pushes: pushes))
                    }
                }
                .connect(host: url.host, port: url.port).get()
            let connection = RedisConnection(channel: channel, pushes: stream)
            if url.database != 0 { _ = try await connection.send(["SELECT", String(url.database)]) }
            return connection
        } catch let error as KilnError {
            throw error
        } catch {
            throw KilnError(.unavailable, "cannot connect to Redis at \(url): \(error)", context: ["redis": "\(url)"])
        }
    }

    /// Sends one command and waits for its reply; a Redis error reply is thrown. A server that
    /// does not answer within `timeout` loses the connection, which fails every waiting command,
    /// so no caller waits forever on a half-dead peer.
    public func send(_ command: [String], timeout: TimeAmount = .seconds(5)) async throws(KilnError) -> RESPValue {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        let channel = self.channel
        let deadline = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        channel.writeAndFlush((command: command, promise: promise)).whenFailure { error in
            // A write to a connection that already closed never reaches Redis, and its
            // channelInactive has passed: fail the command here (a second failure is ignored).
            promise.fail(KilnError(.unavailable, "Redis connection lost: \(error)"))
            channel.close(promise: nil)
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as KilnError {
            throw error
        } catch {
            throw KilnError(.unavailable, "Redis command \(command.first ?? "") failed: \(error)")
        }
    }

    /// Sends `commands` in one write and returns their replies in order: one round trip for all.
    public func pipeline(_ commands: [[String]], timeout: TimeAmount = .seconds(30)) async throws(KilnError) -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let channel = self.channel
        let promises = commands.map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
        let all = EventLoopFuture.whenAllSucceed(promises.map(\.futureResult), on: channel.eventLoop)
        let deadline = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        all.whenComplete { _ in deadline.cancel() }
        for (command, promise) in zip(commands, promises) {
            channel.write((command: command, promise: promise)).whenFailure { error in
                promise.fail(KilnError(.unavailable, "Redis connection lost: \(error)"))
                channel.close(promise: nil)
            }
        }
        channel.flush()
        do {
            return try await all.get()
        } catch let error as KilnError {
            throw error
        } catch {
            throw KilnError(.unavailable, "Redis pipeline failed: \(error)")
        }
    }

    public var isActive: Bool { channel.isActive }

    public func close() async {
        try? await channel.close()
    }
}
