import KilnCore
import NIOCore
import NIOPosix

/// One TCP connection to a Redis server. Commands may be sent from any number of tasks at once:
/// they are pipelined on the socket and each gets its own reply.
public final class RedisConnection: Sendable {
    let channel: any Channel
    public let url: RedisURL

    private init(channel: any Channel, url: RedisURL) {
        self.channel = channel
        self.url = url
    }

    /// Connects, authenticates when `url` has a password, and selects its database, or fails
    /// within `timeout`. Refused credentials are an error whose `redisRefusal` says so.
    public static func connect(
        to url: RedisURL, timeout: TimeAmount = .seconds(2),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(KilnError) -> RedisConnection {
        let channel = try await RedisSocket.connect(to: url, timeout: timeout, group: group) { RedisCommandHandler() }
        let connection = RedisConnection(channel: channel, url: url)
        var greeting: [[String]] = []
        if let auth = url.authCommand { greeting.append(auth) }
        if url.database != 0 { greeting.append(["SELECT", String(url.database)]) }
        do throws(KilnError) {
            // One round trip; after a refused AUTH the first error is the one that explains.
            for (command, reply) in zip(greeting, try await connection.pipeline(greeting, timeout: timeout)) {
                if case .error(let message) = reply { throw KilnError.redisRefused(command, reply: message, url: url) }
            }
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// Sends one command and returns its reply. An error reply from the server is thrown as a
    /// KilnError carrying the server's message.
    ///
    /// A server that does not answer within `timeout` loses the connection, which fails every
    /// command waiting on it: no caller waits forever on a half-dead peer.
    public func send(_ command: [String], timeout: TimeAmount = .seconds(5)) async throws(KilnError) -> RESPValue {
        let reply = try await pipeline([command], timeout: timeout)[0]
        if case .error(let message) = reply { throw KilnError.redisRefused(command, reply: message, url: url) }
        return reply
    }

    /// Sends `commands` in one write and returns their replies in order: one round trip for all.
    /// Error replies are returned as `.error` values, so one bad key does not hide the others.
    public func pipeline(_ commands: [[String]], timeout: TimeAmount = .seconds(30)) async throws(KilnError) -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let channel = self.channel
        let replies = commands.map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
        let all = EventLoopFuture.whenAllSucceed(replies.map(\.futureResult), on: channel.eventLoop)
        let url = self.url
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            // Through the handler, which closes the connection and then fails every waiting
            // command with this error: a caller never sees the connection still open.
            channel.pipeline.fireErrorCaught(
                KilnError(.unavailable, "Redis did not answer within \(timeout)", context: ["redis": "\(url)"]))
        }
        all.whenComplete { _ in deadline.cancel() }
        for (command, reply) in zip(commands, replies) {
            channel.write(RedisCommandHandler.Request(command: command, reply: reply)).whenFailure { error in
                // A write to a channel that has already gone never reaches the handler, so
                // nothing else would fail this reply (a second failure is ignored).
                reply.fail(RedisSocket.connectionError(error))
                channel.close(promise: nil)
            }
        }
        channel.flush()
        do {
            return try await all.get()
        } catch {
            throw RedisSocket.connectionError(error)
        }
    }

    /// Whether the connection is still open (a closed one fails every command at once).
    public var isActive: Bool { channel.isActive }

    public func close() async {
        try? await channel.close()
    }
}
