import NIOCore

/// Closes a connection whose client reads nothing of what the proxy sends it for `timeout`: the
/// channel stays unwritable (its buffer past the high-water mark) all that time. Backpressure
/// already stops reading from the backend meanwhile; this frees the connection.
final class SendTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private var timer = CloseTimer()

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            timer.cancel()
        } else if !timer.isRunning {
            timer.start(after: timeout, closing: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer.cancel()
    }
}
