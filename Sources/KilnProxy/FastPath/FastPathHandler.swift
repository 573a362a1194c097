import KilnCore
import NIOCore

/// The HTTP/1.1 fast path of a client connection: the common request (HTTP/1.1, bodiless or
/// framed by Content-Length, no upgrade) is routed and forwarded as bytes, its head rewritten in
/// one copy and the response's framing read but its body passed as slices of what was read.
/// Any other request hands the connection to the general path (NIOHTTP1's codec and
/// `ProxyHandler`), which answers it exactly as if the fast path did not exist: malformed input,
/// limits and upgrades are all the general path's business. The exchange's logic is the same
/// `ExchangeStateMachine` as the general path's.
final class FastPathHandler: ChannelDuplexHandler, RemovableChannelHandler, UpstreamDelegate {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let shared: ProxyShared
    private let upstreams: LoopUpstreams
    private let scheme: String
    private var machine = ExchangeStateMachine<HTTP1Request, HTTP1Response>()
    private var upstream: UpstreamConnection<RawUpstreamHandler>?
    private var context: ChannelHandlerContext?
    private var heldRead = HeldRead()
    private var clientAddress = "-"
    private var clientKey: ClientAddress?
    /// Bytes read and not yet taken: the rest of a head, or pipelined requests.
    private var unread: ByteBuffer?
    /// Bytes of the current request's body still to come.
    private var bodyRemaining = 0
    /// The current exchange, for the access log.
    private var request: HTTP1Request?
    private var status: UInt = 0
    private var responseBodyBytes = 0
    private var chunkedToClient = false
    private var timer = ExchangeTimer()
    private var balanced = false
    /// The tool the current request is routed to: its owner is looked up only on a new connection.
    private var tool = ""
    private var outstanding = OutstandingRequest()
    private var meter = RequestMeter()
    private static let unreadLimit = 64 * 1024

    init(shared: ProxyShared, upstreams: LoopUpstreams, scheme: String) {
        self.shared = shared
        self.upstreams = upstreams
        self.scheme = scheme
    }

    // MARK: Client side

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let address = context.channel.remoteAddress?.ipAddress { clientAddress = address }
        clientKey = ClientAddress(context.channel.remoteAddress)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        outstanding.end(in: upstreams)
        timer.cancel()
        upstream?.close()
        upstream = nil
        self.context = nil
        // Handed off: a read held here is the general path's to take now.
        if heldRead.released(allowed: context.channel.isActive) { context.read() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if bodyRemaining > 0 {
            takeBody(&buffer)
            if buffer.readableBytes == 0 { return }
        }
        if var pending = unread {
            unread = nil
            pending.writeBuffer(&buffer)
            unread = pending
        } else {
            unread = buffer
        }
        takeRequests(context: context)
    }

    /// Starts the exchanges whose heads have arrived, one at a time.
    private func takeRequests(context: ChannelHandlerContext) {
        while machine.isIdle, bodyRemaining == 0, self.context != nil, var buffer = unread {
            let timeouts = shared.configuration.timeouts
            switch HTTP1Request.parse(buffer, maxHeadBytes: timeouts.maxHeaderBytes, allocator: context.channel.allocator) {
            case .incomplete:
                return
            case .general:
                handOff(buffer, context: context)
                return
            case .request(var request):
                if request.contentLength > timeouts.forRequest(isRead: request.isReadClass).maxBodyBytes {
                    handOff(buffer, context: context)
                    return
                }
                buffer.moveReaderIndex(forwardBy: request.head.readableBytes)
                unread = buffer.readableBytes > 0 ? buffer : nil
                begin(&request, context: context)
                if request.contentLength == 0 {
                    perform(machine.requestEnd(keepAlive: shared.keepsAlive(request.isKeepAlive)))
                } else {
                    bodyRemaining = request.contentLength
                    if var rest = unread {
                        unread = nil
                        takeBody(&rest)
                        if rest.readableBytes > 0 { unread = rest }
                    }
                }
            }
        }
    }

    private func takeBody(_ buffer: inout ByteBuffer) {
        let count = min(bodyRemaining, buffer.readableBytes)
        guard let slice = buffer.readSlice(length: count) else { return }
        bodyRemaining -= count
        perform(machine.requestBody(slice))
        if bodyRemaining == 0 { perform(machine.requestEnd(keepAlive: shared.keepsAlive(request?.isKeepAlive ?? false))) }
    }

    /// The general path takes the connection from here, starting with `bytes`.
    private func handOff(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        unread = nil
        do {
            try ProxyServer.addGeneralHTTP1Path(
                context.pipeline.syncOperations, shared: shared, upstreams: upstreams, scheme: scheme)
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(wrapInboundOut(bytes))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        upstream?.handler.flush()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        let allowed = machine.wantsClientReads && (upstream?.channel.isWritable ?? true) && (unread?.readableBytes ?? 0) < Self.unreadLimit
        if heldRead.passes(allowed: allowed) { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        upstream?.handler.setReadsPaused(!context.channel.isWritable)
        if context.channel.isWritable {
            timer.backendProgressed(on: context.eventLoop) { [weak self] in self?.timerFired() }
        } else {
            timer.clientHoldsBackend()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(machine.clientClosed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        perform(machine.clientClosed())
        context.close(promise: nil)
    }

    // MARK: Routing

    private func begin(_ request: inout HTTP1Request, context: ChannelHandlerContext) {
        context.triggerUserOutboundEvent(ProxyConnectionEvent.requestHeadReceived, promise: nil)
        meter.begin()
        status = 0
        responseBodyBytes = 0
        let decision = decide(&request)
        if case .forward = decision {
            let timeouts = shared.configuration.timeouts
            let outer = NIODeadline.now() + timeouts.forRequest(isRead: request.isReadClass).outer
            timer.start(outer: outer, on: context.eventLoop) { [weak self] in self?.timerFired() }
        }
        self.request = request
        perform(machine.requestHead(request, decision: decision, choose: { self.choose($0, excluding: $1) }))
    }

    private func decide(_ request: inout HTTP1Request) -> RoutingDecision {
        balanced = false
        let configuration = shared.configuration
        let host = request.hostString
        let closeAfter = request.contentLength > 0 || !shared.keepsAlive(request.isKeepAlive)
        if let refusal = shared.clientRefusal(address: clientKey, hasUserAgent: { request.userAgent != nil }) {
            if refusal == .tooManyRequests { upstreams.metrics.refused(.rateLimited) }
            return .respond(refusal, closeAfter: closeAfter)
        }
        if scheme == "http", !configuration.allowHTTP {
            let location = "https://" + RedirectTarget.host(host ?? configuration.domain, httpsPort: configuration.https?.port)
                + request.targetString
            return .respond(.redirect(to: location, status: request.isReadClass ? .movedPermanently : .permanentRedirect), closeAfter: closeAfter)
        }
        let resolution = upstreams.routes.resolve(
            host: host.map { Substring($0) }, path: Substring(request.targetString), domain: configuration.domain,
            pathRouting: configuration.pathRouting)
        switch resolution {
        case .backend(let group, let tool):
            balanced = group.single == nil
            self.tool = tool
            meter.routed(to: tool, in: upstreams.metrics)
            request.finishForwarded(clientAddress: clientAddress, scheme: scheme)
            return .forward(group)
        case .toolOrigin(let tool, let target):
            meter.routed(to: tool, in: upstreams.metrics)
            let location = RedirectTarget.toolOrigin(
                tool: tool, target: target, domain: configuration.domain, httpsPort: configuration.https?.port)
            return .respond(
                .redirect(to: location, status: request.isReadClass ? .movedPermanently : .permanentRedirect), closeAfter: closeAfter)
        case .toolNotRunning(let tool):
            // Counted as no tool's: any path names a tool here, and a label per name would grow without end.
            return .respond(.toolNotRunning(tool, notice: shared.notices.notice(for: tool)), closeAfter: closeAfter)
        case .frontPage:
            return shared.frontPageDecision(isRead: request.isReadClass, closeAfter: closeAfter)
        case .notFound:
            return .respond(.notFound, closeAfter: closeAfter)
        }
    }

    private func choose(_ group: BackendGroup, excluding failed: [BackendAddress]) -> BackendAddress? {
        upstreams.choose(group, excluding: failed, generation: shared.routes.generation)
    }

    // MARK: Actions

    private func perform(_ action: ExchangeStateMachine<HTTP1Request, HTTP1Response>.Action) {
        guard let context else { return }
        switch action {
        case .none:
            break
        case .acquireUpstream(let backend, let fresh):
            acquire(backend, fresh: fresh)
        case .retryOnFreshConnection(let backend):
            dropUpstream()
            acquire(backend, fresh: true)
        case .sendLocalResponse(let response, let close):
            outstanding.end(in: upstreams)
            timer.clear()
            writeLocal(response, close: close)
        case .awaitLocalResponse:
            shared.withFrontPage(on: context.eventLoop) { [weak self] response in
                guard let self else { return }
                self.perform(self.machine.localResponseReady(response))
            }
        case .abandonUpstreamAndRespond(let response, let close):
            outstanding.end(in: upstreams)
            timer.clear()
            dropUpstream()
            writeLocal(response, close: close)
        case .sendRequest(let head, let body, _):
            guard let upstream else { return }
            upstream.handler.sendHead(head.forwarded, requestWasHEAD: head.method == .head, clientKeepAlive: shared.keepsAlive(head.isKeepAlive))
            // The request's end needs nothing on the wire: Content-Length frames the body.
            for buffer in body { upstream.handler.sendBody(buffer) }
            upstream.handler.flush()
            let timeouts = shared.configuration.timeouts
            let firstByte = NIODeadline.now() + timeouts.forRequest(isRead: head.isReadClass).firstByte
            timer.awaitFirstByte(firstByte, on: context.eventLoop) { [weak self] in self?.timerFired() }
            if heldRead.released(allowed: machine.wantsClientReads) { context.read() }
        case .forwardRequestBody(let buffer):
            upstream?.handler.sendBody(buffer)
        case .forwardRequestEnd:
            upstream?.handler.flush()
        case .forwardResponseHead(let head):
            if head.isInformational {
                timer.clear()
            } else {
                status = UInt(head.status)
                chunkedToClient = head.isChunkedToClient
                timer.awaitBody(within: shared.configuration.timeouts.backendStall, on: context.eventLoop) { [weak self] in self?.timerFired() }
            }
            context.write(wrapOutboundOut(head.forwarded), promise: nil)
        case .forwardResponseBody(let buffer):
            timer.backendProgressed(on: context.eventLoop) { [weak self] in self?.timerFired() }
            responseBodyBytes += buffer.readableBytes
            if chunkedToClient {
                var size = context.channel.allocator.buffer(capacity: 20)
                size.writeString(String(buffer.readableBytes, radix: 16))
                size.writeStaticString("\r\n")
                context.write(wrapOutboundOut(size), promise: nil)
                context.write(wrapOutboundOut(buffer), promise: nil)
                context.write(wrapOutboundOut(Self.crlf), promise: nil)
            } else {
                context.write(wrapOutboundOut(buffer), promise: nil)
            }
        case .finishResponse(let reuseUpstream, let closeClient):
            outstanding.end(in: upstreams)
            timer.clear()
            if let upstream {
                self.upstream = nil
                if reuseUpstream { upstreams.fast.release(upstream) } else { upstream.close() }
            }
            if chunkedToClient { context.write(wrapOutboundOut(Self.lastChunk), promise: nil) }
            finishExchange(context: context, close: closeClient)
        case .closeAll:
            outstanding.end(in: upstreams)
            timer.clear()
            dropUpstream()
            logExchange()
            context.close(promise: nil)
        case .forwardUpgradeHead, .joinTunnel:
            // The fast path sends no upgrade, and its reader refuses a 101: never reached.
            perform(machine.clientClosed())
        }
    }

    private static let crlf = ByteBuffer(string: "\r\n")
    private static let lastChunk = ByteBuffer(string: "0\r\n\r\n")

    private func acquire(_ backend: BackendAddress, fresh: Bool) {
        if balanced { outstanding.start(on: backend, in: upstreams) }
        if !fresh, let connection = upstreams.fast.takeIdle(backend) {
            use(connection, reused: true)
            return
        }
        upstreams.fast.connect(backend, owner: shared.owners.owner(of: tool)).whenComplete { [weak self] result in
            guard let self, self.context != nil else {
                if case .success(let connection) = result { connection.close() }
                return
            }
            switch result {
            case .success(let connection):
                self.use(connection, reused: false)
            case .failure(let error):
                self.upstreams.metrics.upstreamConnectFailed(error)
                if self.balanced { self.upstreams.selector.connectFailed(backend, now: .now()) }
                self.perform(self.machine.upstreamFailed(.connect, choose: { self.choose($0, excluding: $1) }))
            }
        }
    }

    private func use(_ connection: UpstreamConnection<RawUpstreamHandler>, reused: Bool) {
        upstream = connection
        connection.handler.attach(self)
        connection.handler.setReadsPaused(!(context?.channel.isWritable ?? true))
        perform(machine.upstreamAcquired(reused: reused))
    }

    private func dropUpstream() {
        upstream?.close()
        upstream = nil
    }

    private func timerFired() {
        guard let context, timer.expired(on: context.eventLoop, fire: { [weak self] in self?.timerFired() }) else { return }
        upstreams.metrics.upstreamTimedOut()
        perform(machine.upstreamFailed(.timeout))
    }

    private func writeLocal(_ response: LocalResponse, close: Bool) {
        guard let context else { return }
        status = response.status.code
        responseBodyBytes = response.body.utf8.count
        let bytes = response.http1Bytes(
            includeBody: request?.method != .head, close: close, allocator: context.channel.allocator)
        // Logged (and counted) whether or not the connection stays open.
        logExchange()
        if close {
            context.writeAndFlush(wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
            if machine.isIdle { finishedIdle(context: context) }
        }
    }

    private func finishExchange(context: ChannelHandlerContext, close: Bool) {
        logExchange()
        if close {
            // Closed once everything written before has gone out.
            context.writeAndFlush(wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.flush()
            finishedIdle(context: context)
        }
    }

    private func finishedIdle(context: ChannelHandlerContext) {
        context.triggerUserOutboundEvent(ProxyConnectionEvent.exchangeFinished, promise: nil)
        if unread != nil { takeRequests(context: context) }
        if heldRead.released(allowed: machine.isIdle && self.context != nil) { context.read() }
    }

    private func logExchange() {
        guard let request else { return }
        self.request = nil
        meter.end(status: status, in: upstreams.metrics)
        shared.accessLog?.record(client: clientAddress, request: request, status: status, bytes: responseBodyBytes)
    }

    // MARK: Backend side

    func upstreamResponseHead(_ head: HTTP1Response) { perform(machine.responseHead(head)) }

    func upstreamResponseBody(_ buffer: ByteBuffer) { perform(machine.responseBody(buffer)) }

    func upstreamResponseEnd(keepAlive: Bool) { perform(machine.responseEnd(upstreamKeepAlive: keepAlive)) }

    func upstreamReadComplete() { context?.flush() }

    func upstreamClosed() {
        upstream = nil
        perform(machine.upstreamFailed(.closed))
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if heldRead.released(allowed: isWritable && machine.wantsClientReads), let context { context.read() }
    }
}
