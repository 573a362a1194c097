import NIOCore

/// The last handler of a fast-path backend connection: bytes out, response events in (read by
/// `HTTP1ResponseReader`), and reads held while the client cannot take more (backpressure).
final class RawUpstreamHandler: ChannelDuplexHandler, RemovableChannelHandler, PooledUpstreamHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Set while an exchange uses the connection; nil while it idles in the pool.
    private(set) var delegate: (any UpstreamDelegate<HTTP1Response>)?
    var onClose: (() -> Void)?
    private(set) var context: ChannelHandlerContext?
    private var reader = HTTP1ResponseReader()
    private var readsPaused = false
    private var heldRead = HeldRead()
    private let idleTimeout: TimeAmount
    /// Runs while the connection idles in the pool. Not an `IdleStateHandler`: that one reads the
    /// clock on every read and write, this one only when the connection is parked.
    private var idleTimer = DeadlineTimer()

    init(idleTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
    }

    static func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations, idleTimeout: TimeAmount) throws {
        try pipeline.addHandler(RawUpstreamHandler(idleTimeout: idleTimeout))
    }

    /// An exchange takes the connection.
    func attach(_ delegate: any UpstreamDelegate<HTTP1Response>) {
        self.delegate = delegate
        idleTimer.clear()
    }

    func detach() {
        delegate = nil
        setReadsPaused(false)
        if let context {
            idleTimer.set(.now() + idleTimeout, on: context.eventLoop) { [weak self] in self?.idleTimerFired() }
        }
    }

    private func idleTimerFired() {
        guard let context, idleTimer.expired(on: context.eventLoop, fire: { [weak self] in self?.idleTimerFired() }) else {
            return
        }
        if delegate == nil { context.close(promise: nil) }
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        do {
            while let event = try reader.next(&buffer, allocator: context.channel.allocator) {
                switch event {
                case .head(let head): delegate?.upstreamResponseHead(head)
                case .body(let body): delegate?.upstreamResponseBody(body)
                case .end(let keepAlive): delegate?.upstreamResponseEnd(keepAlive: keepAlive)
                }
            }
        } catch {
            // A backend that breaks HTTP gets no second chance: the exchange sees a closed connection.
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let delegate = self.delegate
        self.delegate = nil
        idleTimer.cancel()
        if reader.connectionClosed() != nil {
            delegate?.upstreamResponseEnd(keepAlive: false)
            delegate?.upstreamReadComplete()
        } else {
            delegate?.upstreamClosed()
        }
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

    func read(context: ChannelHandlerContext) {
        if heldRead.passes(allowed: !readsPaused) { context.read() }
    }

    func setReadsPaused(_ paused: Bool) {
        readsPaused = paused
        if heldRead.released(allowed: !paused), let context { context.read() }
    }

    /// Sends a request head; its response is read next.
    func sendHead(_ head: ByteBuffer, requestWasHEAD: Bool, clientKeepAlive: Bool) {
        guard let context else { return }
        reader.expectResponse(requestWasHEAD: requestWasHEAD, clientKeepAlive: clientKeepAlive)
        context.write(wrapOutboundOut(head), promise: nil)
    }

    func sendBody(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    func flush() { context?.flush() }
}
