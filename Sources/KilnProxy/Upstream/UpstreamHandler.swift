import NIOCore
import NIOHTTP1

/// What the backend connection reports to the exchange that is using it.
protocol UpstreamDelegate<ResponseHead>: AnyObject {
    associatedtype ResponseHead
    func upstreamResponseHead(_ head: ResponseHead)
    func upstreamResponseBody(_ buffer: ByteBuffer)
    func upstreamResponseEnd(keepAlive: Bool)
    func upstreamReadComplete()
    func upstreamClosed()
    func upstreamWritabilityChanged(isWritable: Bool)
}

/// The last handler of a backend connection: hands response parts to the exchange using the
/// connection, and holds reads while the client cannot take more (backpressure).
final class UpstreamHandler: ChannelDuplexHandler, RemovableChannelHandler, PooledUpstreamHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// Set while an exchange uses the connection; nil while it idles in the pool. Cleared on
    /// release, which breaks the reference cycle with the exchange.
    var delegate: (any UpstreamDelegate<HTTPResponseHead>)?
    var onClose: (() -> Void)?
    private(set) var context: ChannelHandlerContext?
    private var readsPaused = false
    private var heldRead = HeldRead()
    private var responseKeepAlive = true

    static func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations, idleTimeout: TimeAmount) throws {
        // Headers going to backends were parsed and checked on the way in.
        try pipeline.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
        try pipeline.addHandlers([IdleStateHandler(allTimeout: idleTimeout), UpstreamHandler()])
    }

    func detach() {
        delegate = nil
        setReadsPaused(false)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            responseKeepAlive = head.isKeepAlive
            delegate?.upstreamResponseHead(head)
        case .body(let buffer):
            delegate?.upstreamResponseBody(buffer)
        case .end:
            delegate?.upstreamResponseEnd(keepAlive: responseKeepAlive)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstreamClosed()
        onClose?()
        onClose = nil
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // An idle pooled connection past its time is closed; one in use is the exchange's business.
        if event is IdleStateHandler.IdleStateEvent, delegate == nil {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        if heldRead.passes(allowed: !readsPaused) { context.read() }
    }

    func setReadsPaused(_ paused: Bool) {
        readsPaused = paused
        if heldRead.released(allowed: !paused), let context { context.read() }
    }

    func send(_ part: HTTPClientRequestPart, flush: Bool = false) {
        guard let context else { return }
        context.write(wrapOutboundOut(part), promise: nil)
        if flush { context.flush() }
    }

    func flush() { context?.flush() }
}
