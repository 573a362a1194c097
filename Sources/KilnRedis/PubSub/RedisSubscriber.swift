import KilnCore
import NIOCore
import NIOPosix

/// A connection in pub/sub mode: it subscribes to channel patterns and delivers what is
/// published on them. Redis allows no other commands on such a connection, hence its own type.
public final class RedisSubscriber: Sendable {
    /// A published message: the channel it was published on, and its payload.
    public typealias Message = (channel: String, message: String)

    let channel: any Channel
    let url: RedisURL
    /// Every message of every subscription, in the order Redis sent them; it finishes when the
    /// connection closes. Unbounded, so a slow reader loses nothing.
    public let messages: AsyncStream<Message>

    private init(channel: any Channel, url: RedisURL, messages: AsyncStream<Message>) {
        self.channel = channel
        self.url = url
        self.messages = messages
    }

    public static func connect(
        to url: RedisURL, timeout: TimeAmount = .seconds(2),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(KilnError) -> RedisSubscriber {
        let (messages, continuation) = AsyncStream<Message>.makeStream()
        let channel: any Channel
        do {
            channel = try await RedisSocket.connect(to: url, timeout: timeout, group: group) {
                RedisSubscriberHandler(messages: continuation)
            }
        } catch {
            continuation.finish()
            throw error
        }
        // Whoever stops reading (or is cancelled) has no more use for the connection.
        continuation.onTermination = { _ in channel.close(promise: nil) }
        let subscriber = RedisSubscriber(channel: channel, url: url, messages: messages)
        // Before any subscription, as on every connection: a refused AUTH ends it here.
        if let auth = url.authCommand {
            do {
                try await subscriber.request(auth, confirmations: 1, timeout: timeout)
            } catch {
                await subscriber.close()
                throw error
            }
        }
        return subscriber
    }

    /// Subscribes to glob-style channel patterns; returns once Redis confirmed every one, so any
    /// message published afterwards is delivered.
    public func psubscribe(_ patterns: [String], timeout: TimeAmount = .seconds(5)) async throws(KilnError) {
        guard !patterns.isEmpty else { return }
        try await request(["PSUBSCRIBE"] + patterns, confirmations: patterns.count, timeout: timeout)
    }

    /// Sends `command` and returns once Redis answered it `confirmations` times.
    private func request(_ command: [String], confirmations: Int, timeout: TimeAmount) async throws(KilnError) {
        let channel = self.channel
        let name = command.first ?? "the command"
        let done = channel.eventLoop.makePromise(of: Void.self)
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            channel.pipeline.fireErrorCaught(
                KilnError(.unavailable, "Redis did not confirm \(name) within \(timeout)"))
        }
        done.futureResult.whenComplete { _ in deadline.cancel() }
        let request = RedisSubscriberHandler.Request(command: command, confirmations: confirmations, done: done, url: url)
        channel.writeAndFlush(request).whenFailure { error in
            done.fail(RedisSocket.connectionError(error))
            channel.close(promise: nil)
        }
        do {
            try await done.futureResult.get()
        } catch {
            throw RedisSocket.connectionError(error)
        }
    }

    public var isActive: Bool { channel.isActive }

    public func close() async {
        try? await channel.close()
    }
}
