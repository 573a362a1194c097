import NIOCore

/// One side of a byte tunnel between two channels on the same event loop: what it reads is
/// written to its partner, and it reads only while the partner can take more (backpressure both
/// ways). A half-close (where the channel allows it) is passed on as one. Used by the proxy for
/// websockets and by the runner for continuous jobs' ports.
public final class ByteTunnelHandler: ChannelDuplexHandler {
    public typealias InboundIn = NIOAny
    public typealias OutboundIn = NIOAny
    public typealias OutboundOut = NIOAny

    private var partner: ByteTunnelHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    public static func matchedPair() -> (ByteTunnelHandler, ByteTunnelHandler) {
        let first = ByteTunnelHandler()
        let second = ByteTunnelHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The partner may have held a read while this side was not yet in its pipeline. A channel
        // not yet active (just accepted) starts reading by itself once it is.
        partner?.partnerBecameWritable()
        if context.channel.isActive { context.read() }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    private func partnerWrite(_ data: NIOAny) { context?.write(data, promise: nil) }
    private func partnerFlush() { context?.flush() }
    private func partnerClose() { context?.close(promise: nil) }
    private func partnerCloseOutput() { context?.close(mode: .output, promise: nil) }
    private var partnerWritable: Bool { context?.channel.isWritable ?? false }

    private func partnerBecameWritable() {
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) { partner?.partnerWrite(data) }

    public func channelReadComplete(context: ChannelHandlerContext) { partner?.partnerFlush() }

    public func channelInactive(context: ChannelHandlerContext) { partner?.partnerClose() }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event { partner?.partnerCloseOutput() }
        context.fireUserInboundEventTriggered(event)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
    }

    public func read(context: ChannelHandlerContext) {
        if partner?.partnerWritable ?? false {
            context.read()
        } else {
            pendingRead = true
        }
    }
}

@available(*, unavailable)
extension ByteTunnelHandler: Sendable {}
