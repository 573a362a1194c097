import KilnCore
import NIOCore

/// A connection in pub/sub mode: published messages go to a stream; everything else confirms
/// the oldest subscription command. PSUBSCRIBE with N patterns is confirmed by N replies, and
/// messages may already arrive between them, so replies are counted rather than paired.
final class RedisSubscriberHandler: ChannelDuplexHandler {
    struct Request: Sendable {
        var command: [String]
        var confirmations: Int
        var done: EventLoopPromise<Void>
        /// For the error of a refusal.
        var url: RedisURL
    }

    typealias InboundIn = RESPValue
    typealias OutboundIn = Request
    typealias OutboundOut = [String]

    private var pending = CircularBuffer<(request: Request, confirmed: Int)>()
    private var isClosed = false
    /// Why the connection is being closed (see `RedisCommandHandler`).
    private var closeReason: KilnError?
    private let messages: AsyncStream<RedisSubscriber.Message>.Continuation

    init(messages: AsyncStream<RedisSubscriber.Message>.Continuation) {
        self.messages = messages
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard !isClosed else {
            request.done.fail(RedisSocket.closedError)
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        pending.append((request, 0))
        context.write(wrapOutboundOut(request.command), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        if let message = Self.message(value) {
            messages.yield(message)
            return
        }
        // Confirmations of commands we no longer wait for (none today) are of no interest.
        guard var first = pending.first else { return }
        if case .error(let text) = value {
            pending.removeFirst()
            first.request.done.fail(KilnError.redisRefused(first.request.command, reply: text, url: first.request.url))
            return
        }
        first.confirmed += 1
        if first.confirmed >= first.request.confirmations {
            pending.removeFirst()
            first.request.done.succeed()
        } else {
            pending[pending.startIndex] = first
        }
    }

    /// `pmessage PATTERN CHANNEL PAYLOAD` or `message CHANNEL PAYLOAD`.
    static func message(_ value: RESPValue) -> RedisSubscriber.Message? {
        guard let items = value.array, let kind = items.first?.string else { return nil }
        switch (kind, items.count) {
        case ("pmessage", 4):
            guard let channel = items[2].string, let payload = items[3].string else { return nil }
            return (channel, payload)
        case ("message", 3):
            guard let channel = items[1].string, let payload = items[2].string else { return nil }
            return (channel, payload)
        default:
            return nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        failAll(closeReason ?? RedisSocket.closedError)
        messages.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if closeReason == nil { closeReason = RedisSocket.connectionError(error) }
        context.close(promise: nil)
    }

    private func failAll(_ error: KilnError) {
        while let entry = pending.popFirst() { entry.request.done.fail(error) }
    }
}
