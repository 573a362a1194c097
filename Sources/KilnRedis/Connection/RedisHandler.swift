import KilnCore
import NIOCore

/// Decodes RESP values from the socket.
struct RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try RESPParser.parse(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(value))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// Matches replies to commands in order (Redis answers a connection's commands in the order it
/// got them, so pipelining needs only a queue), or, on a subscriber connection, hands every
/// pushed message to a stream.
final class RedisHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = (command: [String], promise: EventLoopPromise<RESPValue>)
    typealias OutboundOut = ByteBuffer

    private var pending = CircularBuffer<EventLoopPromise<RESPValue>>()
    private let pushes: AsyncStream<RESPValue>.Continuation?

    init(pushes: AsyncStream<RESPValue>.Continuation? = nil) {
        self.pushes = pushes
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let (command, reply) = unwrapOutboundIn(data)
        var buffer = context.channel.allocator.buffer(capacity: 64)
        RESPParser.encode(command: command, into: &buffer)
        pending.append(reply)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        if let pushes, case .array(let items?) = value, let kind = items.first?.string,
            kind == "pmessage" || kind == "message"
        {
            pushes.yield(value)
            return
        }
        guard let promise = pending.popFirst() else {
            pushes?.yield(value)
            return
        }
        if case .error(let message) = value {
            promise.fail(KilnError(.unavailable, "Redis: \(message)"))
        } else {
            promise.succeed(value)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(KilnError(.unavailable, "the connection to Redis closed"))
        pushes?.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        while let promise = pending.popFirst() { promise.fail(error) }
    }
}
