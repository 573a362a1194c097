import KilnCore
import NIOCore

/// Matches replies to commands. Redis answers a connection's commands in the order it received
/// them, so pipelining needs nothing more than a queue of promises.
final class RedisCommandHandler: ChannelDuplexHandler {
    struct Request: Sendable {
        var command: [String]
        var reply: EventLoopPromise<RESPValue>
    }

    typealias InboundIn = RESPValue
    typealias OutboundIn = Request
    typealias OutboundOut = [String]

    private var pending = CircularBuffer<EventLoopPromise<RESPValue>>()
    private var isClosed = false
    /// Why the connection is being closed, for the commands still waiting: set before the close,
    /// so that a waiter resumes only once the connection is already inactive.
    private var closeReason: KilnError?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        // After the close nothing would ever answer: fail now rather than queue forever.
        guard !isClosed else {
            request.reply.fail(RedisSocket.closedError)
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        pending.append(request.reply)
        context.write(wrapOutboundOut(request.command), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard let reply = pending.popFirst() else {
            // A reply nobody asked for: the stream is out of step, so no later reply can be trusted.
            errorCaught(context: context, error: KilnError(.unavailable, "Redis sent a reply to no command"))
            return
        }
        // Error replies are values here; `RedisConnection.send` turns them into errors.
        reply.succeed(value)
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        failAll(closeReason ?? RedisSocket.closedError)
        context.fireChannelInactive()
    }

    /// Every failure closes the connection; the commands waiting on it fail with this error once
    /// it is closed (in `channelInactive`).
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if closeReason == nil { closeReason = RedisSocket.connectionError(error) }
        context.close(promise: nil)
    }

    private func failAll(_ error: KilnError) {
        while let reply = pending.popFirst() { reply.fail(error) }
    }
}
