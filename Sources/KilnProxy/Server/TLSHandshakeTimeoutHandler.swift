import NIOCore
import NIOSSL
import NIOTLS

/// Closes a TLS connection that has not finished its handshake in time: a client that connects
/// and says nothing (or dribbles a ClientHello) would otherwise hold a connection for ever.
final class TLSHandshakeTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private var timer = CloseTimer()

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timer.start(after: timeout, closing: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        // Passed on first: the handlers after this one (ALPN) act on the same event.
        if case TLSUserEvent.handshakeCompleted = event {
            timer.cancel()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}
