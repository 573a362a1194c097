import NIOCore

/// Header-read and idle timeouts of an HTTP/1 client connection. It sits below the HTTP codec, so
/// it sees raw bytes: a connection that sent nothing since its last exchange is closed quietly
/// after the idle timeout; one that began a request and did not finish its head in time gets 408.
final class ConnectionTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State {
        case waitingForRequest(sawBytes: Bool)
        case inExchange
    }

    private let headerRead: TimeAmount
    private var idle: TimeAmount
    private var state = State.waitingForRequest(sawBytes: false)
    private var timer = DeadlineTimer()

    init(headerRead: TimeAmount, idle: TimeAmount) {
        self.headerRead = headerRead
        self.idle = idle
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context: context, after: idle) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context: context, after: idle)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .waitingForRequest(false) = state {
            state = .waitingForRequest(sawBytes: true)
            arm(context: context, after: headerRead)
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The proxy stops: an idle connection closes after a short grace, and so does each
        // connection once its exchange is over.
        if event is ProxyDrain {
            idle = min(idle, ProxyDrain.idleGrace)
            if case .waitingForRequest(sawBytes: false) = state { arm(context: context, after: idle) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        // The proxy handler sends these on every request: a type check, not a dynamic cast.
        guard type(of: event) == ProxyConnectionEvent.self else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch event as? ProxyConnectionEvent {
        case .requestHeadReceived:
            state = .inExchange
            timer.clear()
            promise?.succeed()
        case .exchangeFinished:
            state = .waitingForRequest(sawBytes: false)
            arm(context: context, after: idle)
            promise?.succeed()
        case nil:
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }

    private func arm(context: ChannelHandlerContext, after delay: TimeAmount) {
        timer.set(.now() + delay, on: context.eventLoop) { [weak self] in self?.fire(context: context) }
    }

    private func fire(context: ChannelHandlerContext) {
        guard timer.expired(on: context.eventLoop, fire: { [weak self] in self?.fire(context: context) }) else { return }
        guard case .waitingForRequest(let sawBytes) = state else { return }
        guard sawBytes else {
            context.close(promise: nil)
            return
        }
        let buffer = LocalResponse.requestTimeout.http1Bytes(includeBody: true, close: true, allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
