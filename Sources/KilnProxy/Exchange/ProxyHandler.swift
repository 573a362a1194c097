import KilnCore
import NIOCore
import NIOHTTP1

/// Events the proxy handler sends down its pipeline to the connection's timeout handler.
enum ProxyConnectionEvent: Sendable {
    case requestHeadReceived
    case exchangeFinished
}

/// One client connection (or HTTP/2 stream) of the front proxy: routes each request by the route
/// table held in memory, forwards it over a pooled backend connection, and streams both bodies
/// with backpressure. The exchange's logic is `ExchangeStateMachine`; this carries out its actions.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler, UpstreamDelegate {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let shared: ProxyShared
    private let upstreams: LoopUpstreams
    private let scheme: String
    private let isHTTP2Stream: Bool
    private var machine = HTTPPartsExchange()
    private var upstream: UpstreamConnection<UpstreamHandler>?
    private var context: ChannelHandlerContext?
    private var heldRead = HeldRead()
    private var clientAddress = "-"
    private var clientKey: ClientAddress?
    private var exchange = ExchangeRecord()
    private var timer = ExchangeTimer()
    /// Pipelined requests that arrived while an exchange was under way, replayed in order. Held
    /// here rather than by pausing reads, which would cost two epoll changes per request.
    private var pipelined = CircularBuffer<HTTPServerRequestPart>()
    /// What the held parts cost: body bytes, and for each head its size on the wire and a share
    /// for the object it became, so that a flood of tiny heads counts as much as a body.
    private var pipelinedBytes = 0
    private var requestEndReceived = false
    private var draining = false
    /// Past it, no more is read from the client until the held parts are taken.
    private static let pipelinedLimit = 64 * 1024
    /// Past it, the connection is closed: one read (NIO reads up to 16 buffers at once) brought
    /// more held requests than the read limit can stop, a flood no client sends in good faith.
    private static let pipelinedHardLimit = 4 * pipelinedLimit
    private var refusedPipelining = false
    /// Whether the exchange's pattern has several backends: only then is it balanced, counted as
    /// outstanding and its connect failures ejected, so a lone backend costs nothing extra.
    private var balanced = false
    /// The tool the current request is routed to: its owner is looked up only on a new connection.
    private var tool = ""
    private var outstanding = OutstandingRequest()
    private var meter = RequestMeter()

    init(shared: ProxyShared, upstreams: LoopUpstreams, scheme: String, isHTTP2Stream: Bool = false) {
        self.shared = shared
        self.upstreams = upstreams
        self.scheme = scheme
        self.isHTTP2Stream = isHTTP2Stream
    }

    // MARK: Client side

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let address = context.channel.remoteAddress?.ipAddress { clientAddress = address }
        clientKey = ClientAddress(context.channel.remoteAddress)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        endOutstanding()
        timer.cancel()
        upstream?.close()
        upstream = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard !refusedPipelining else { return }
        if !pipelined.isEmpty || (requestEndReceived && !machine.isIdle) {
            pipelinedBytes += Self.cost(of: part)
            pipelined.append(part)
            if pipelinedBytes > Self.pipelinedHardLimit {
                refusedPipelining = true
                pipelined.removeAll()
                pipelinedBytes = 0
                upstreams.metrics.refused(.pipelining)
                perform(machine.clientClosed())
                context.close(promise: nil)
            }
            return
        }
        handle(part, context: context)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(var head):
            requestEndReceived = false
            context.triggerUserOutboundEvent(ProxyConnectionEvent.requestHeadReceived, promise: nil)
            let targetProblem = isHTTP2Stream ? RequestFraming.http2TargetProblem(head) : RequestFraming.toOriginForm(&head)
            exchange = ExchangeRecord(head: head)
            meter.begin()
            let decision = targetProblem.map { RoutingDecision.respond(.badRequest($0), closeAfter: true) } ?? decide(head)
            if case .forward = decision {
                let deadline = NIODeadline.now() + shared.configuration.timeouts.forMethod(head.method).outer
                timer.start(outer: deadline, on: context.eventLoop) { [weak self] in self?.timerFired() }
            }
            perform(machine.requestHead(head, decision: decision, choose: { self.choose($0, excluding: $1) }))
        case .body(let buffer):
            exchange.requestBodyBytes += buffer.readableBytes
            if exchange.requestBodyBytes > exchange.bodyLimit {
                perform(machine.upstreamFailedForLimit())
                return
            }
            perform(machine.requestBody(buffer))
        case .end:
            requestEndReceived = true
            perform(machine.requestEnd(keepAlive: shared.keepsAlive(exchange.head?.isKeepAlive ?? false)))
        }
    }

    /// What a held part counts towards the pipelining limits.
    static func cost(of part: HTTPServerRequestPart) -> Int {
        switch part {
        case .head(let head):
            // The request line and fields as sent, plus what a parsed head costs beyond them.
            head.headers.reduce(head.uri.utf8.count + 256) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        case .body(let buffer):
            buffer.readableBytes
        case .end:
            16
        }
    }

    /// Replays pipelined parts while exchanges finish.
    private func drainPipelined(context: ChannelHandlerContext) {
        guard !draining else { return }
        draining = true
        defer { draining = false }
        while let part = pipelined.first {
            if case .head = part, !machine.isIdle { break }
            pipelined.removeFirst()
            pipelinedBytes -= Self.cost(of: part)
            handle(part, context: context)
            if self.context == nil { return }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        upstream?.handler.flush()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        let allowed = machine.wantsClientReads && (upstream?.channel.isWritable ?? true) && pipelinedBytes < Self.pipelinedLimit
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
        if let parserError = error as? HTTPParserError {
            let response: LocalResponse =
                parserError == .headerOverflow ? .headersTooLarge : .badRequest("malformed HTTP (\(parserError))")
            if exchange.head == nil {
                exchange.head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "-")
            }
            perform(machine.requestMalformed(response))
            return
        }
        perform(machine.clientClosed())
        context.close(promise: nil)
    }

    // MARK: Routing

    private func decide(_ head: HTTPRequestHead) -> RoutingDecision {
        balanced = false
        let configuration = shared.configuration
        if let problem = RequestFraming.problem(head) {
            return .respond(.badRequest(problem), closeAfter: true)
        }
        // CONNECT asks for a tunnel (RFC 9110 §9.3.6): this is no forward proxy, a backend's 2xx
        // would turn the connection into bytes the proxy no longer frames, and NIO's decoder
        // reads nothing after it: refused, and the connection closed.
        if head.method == .CONNECT {
            return .respond(.badRequest("CONNECT is not served here"), closeAfter: true)
        }
        var headerBytes = head.uri.utf8.count
        for (name, value) in head.headers { headerBytes += name.utf8.count + value.utf8.count + 4 }
        if headerBytes > configuration.timeouts.maxHeaderBytes {
            return .respond(.headersTooLarge, closeAfter: true)
        }
        let timeouts = configuration.timeouts.forMethod(head.method)
        exchange.bodyLimit = timeouts.maxBodyBytes
        let hasBody = RequestFraming.hasBody(head)
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > timeouts.maxBodyBytes {
            return .respond(.payloadTooLarge, closeAfter: true)
        }
        if let refusal = shared.clientRefusal(address: clientKey, hasUserAgent: { !head.headers["user-agent"].isEmpty }) {
            if refusal == .tooManyRequests { upstreams.metrics.refused(.rateLimited) }
            return .respond(refusal, closeAfter: hasBody || !shared.keepsAlive(head.isKeepAlive))
        }
        let host = head.headers.first(name: "host")
        if scheme == "http", !configuration.allowHTTP {
            let location = "https://" + RedirectTarget.host(host ?? configuration.domain, httpsPort: configuration.https?.port) + head.uri
            let status: HTTPResponseStatus = head.method == .GET || head.method == .HEAD ? .movedPermanently : .permanentRedirect
            return .respond(.redirect(to: location, status: status), closeAfter: hasBody || !shared.keepsAlive(head.isKeepAlive))
        }
        let resolution = upstreams.routes.resolve(
            host: host.map { Substring($0) }, path: Substring(head.uri), domain: configuration.domain,
            pathRouting: configuration.pathRouting)
        switch resolution {
        case .backend(let group, let tool):
            balanced = group.single == nil
            self.tool = tool
            meter.routed(to: tool, in: upstreams.metrics)
            return .forward(group)
        case .toolOrigin(let tool, let target):
            meter.routed(to: tool, in: upstreams.metrics)
            let location = RedirectTarget.toolOrigin(
                tool: tool, target: target, domain: configuration.domain, httpsPort: configuration.https?.port)
            let status: HTTPResponseStatus = head.method == .GET || head.method == .HEAD ? .movedPermanently : .permanentRedirect
            return .respond(.redirect(to: location, status: status), closeAfter: hasBody || !shared.keepsAlive(head.isKeepAlive))
        case .toolNotRunning(let tool):
            // Counted as no tool's: any path names a tool here, and a label per name would grow without end.
            return .respond(.toolNotRunning(tool, notice: shared.notices.notice(for: tool)), closeAfter: hasBody || !shared.keepsAlive(head.isKeepAlive))
        case .frontPage:
            return shared.frontPageDecision(
                isRead: head.method == .GET || head.method == .HEAD, closeAfter: hasBody || !shared.keepsAlive(head.isKeepAlive))
        case .notFound:
            return .respond(.notFound, closeAfter: hasBody || !shared.keepsAlive(head.isKeepAlive))
        }
    }

    // MARK: Actions

    private func perform(_ action: HTTPPartsExchange.Action) {
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
            endOutstanding()
            cancelTimers()
            writeLocal(response, close: close)
        case .awaitLocalResponse:
            shared.withFrontPage(on: context.eventLoop) { [weak self] response in
                guard let self else { return }
                self.perform(self.machine.localResponseReady(response))
            }
        case .abandonUpstreamAndRespond(let response, let close):
            endOutstanding()
            cancelTimers()
            dropUpstream()
            writeLocal(response, close: close)
        case .sendRequest(let head, let body, let end):
            guard let upstream else { return }
            let forwarded = ForwardedHeaders.requestHead(
                head, clientAddress: clientAddress, scheme: scheme, hasBody: RequestFraming.hasBody(head),
                chunked: RequestFraming.isChunked(head) || (isHTTP2Stream && RequestFraming.hasBody(head)
                    && head.headers.first(name: "content-length") == nil))
            upstream.handler.send(.head(forwarded))
            for buffer in body { upstream.handler.send(.body(.byteBuffer(buffer))) }
            if end { upstream.handler.send(.end(nil)) }
            upstream.handler.flush()
            let firstByte = NIODeadline.now() + shared.configuration.timeouts.forMethod(head.method).firstByte
            timer.awaitFirstByte(firstByte, on: context.eventLoop) { [weak self] in self?.timerFired() }
            if heldRead.released(allowed: machine.wantsClientReads) { context.read() }
        case .forwardRequestBody(let buffer):
            upstream?.handler.send(.body(.byteBuffer(buffer)))
        case .forwardRequestEnd:
            upstream?.handler.send(.end(nil), flush: true)
        case .forwardResponseHead(let head):
            if head.status.code < 200 {
                cancelTimers()
            } else {
                timer.awaitBody(within: shared.configuration.timeouts.backendStall, on: context.eventLoop) { [weak self] in self?.timerFired() }
            }
            exchange.status = head.status.code
            let keepAlive = shared.keepsAlive(exchange.head?.isKeepAlive ?? false)
            context.write(wrapOutboundOut(.head(ForwardedHeaders.responseHead(head, keepAlive: keepAlive))), promise: nil)
        case .forwardResponseBody(let buffer):
            timer.backendProgressed(on: context.eventLoop) { [weak self] in self?.timerFired() }
            exchange.responseBodyBytes += buffer.readableBytes
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .finishResponse(let reuseUpstream, let closeClient):
            endOutstanding()
            cancelTimers()
            if let upstream {
                self.upstream = nil
                if reuseUpstream { upstreams.general.release(upstream) } else { upstream.close() }
            }
            finishExchange(context: context, close: closeClient)
        case .closeAll:
            endOutstanding()
            cancelTimers()
            dropUpstream()
            logExchange()
            context.close(promise: nil)
        case .forwardUpgradeHead(let head):
            cancelTimers()
            guard !isHTTP2Stream else {
                perform(machine.clientClosed())
                return
            }
            exchange.status = head.status.code
            logExchange()
            let response = ForwardedHeaders.responseHead(head, keepAlive: true, upgrade: true)
            context.writeAndFlush(wrapOutboundOut(.head(response)), promise: nil)
        case .joinTunnel:
            endOutstanding()
            joinTunnel(context: context)
        }
    }

    private func acquire(_ backend: BackendAddress, fresh: Bool) {
        if balanced { outstanding.start(on: backend, in: upstreams) }
        upstreams.general.acquire(backend, fresh: fresh, owner: { shared.owners.owner(of: tool) }).whenComplete { [weak self] result in
            guard let self, self.context != nil else {
                if case .success(let (connection, _)) = result { connection.close() }
                return
            }
            switch result {
            case .success(let (connection, reused)):
                self.upstream = connection
                connection.handler.delegate = self
                connection.handler.setReadsPaused(!(self.context?.channel.isWritable ?? true))
                self.perform(self.machine.upstreamAcquired(reused: reused))
            case .failure(let error):
                self.upstreams.metrics.upstreamConnectFailed(error)
                if self.balanced { self.upstreams.selector.connectFailed(backend, now: .now()) }
                self.perform(self.machine.upstreamFailed(.connect, choose: { self.choose($0, excluding: $1) }))
            }
        }
    }

    // MARK: Balancing

    private func choose(_ group: BackendGroup, excluding failed: [BackendAddress]) -> BackendAddress? {
        upstreams.choose(group, excluding: failed, generation: shared.routes.generation)
    }

    private func endOutstanding() { outstanding.end(in: upstreams) }

    private func dropUpstream() {
        upstream?.close()
        upstream = nil
    }

    private func timerFired() {
        guard let context, timer.expired(on: context.eventLoop, fire: { [weak self] in self?.timerFired() }) else {
            return
        }
        upstreams.metrics.upstreamTimedOut()
        perform(machine.upstreamFailed(.timeout))
    }

    private func cancelTimers() { timer.clear() }

    private func writeLocal(_ response: LocalResponse, close: Bool) {
        guard let context else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.utf8.count))
        if let location = response.location { headers.add(name: "Location", value: location) }
        if let retryAfter = response.retryAfter { headers.add(name: "Retry-After", value: String(retryAfter)) }
        if let policy = response.contentSecurityPolicy { headers.add(name: "Content-Security-Policy", value: policy) }
        if close && !isHTTP2Stream { headers.add(name: "Connection", value: "close") }
        exchange.status = response.status.code
        exchange.responseBodyBytes = response.body.utf8.count
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
        if exchange.head?.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: response.body.utf8.count)
            buffer.writeString(response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        // Logged (and counted) whether or not the connection stays open.
        logExchange()
        if close {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            if machine.isIdle { finishedIdle(context: context) }
        }
    }

    private func finishExchange(context: ChannelHandlerContext, close: Bool) {
        logExchange()
        if close {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            finishedIdle(context: context)
        }
    }

    private func finishedIdle(context: ChannelHandlerContext) {
        exchange = ExchangeRecord()
        context.triggerUserOutboundEvent(ProxyConnectionEvent.exchangeFinished, promise: nil)
        if !pipelined.isEmpty { drainPipelined(context: context) }
        if heldRead.released(allowed: machine.isIdle) { context.read() }
    }

    private func logExchange() {
        guard let head = exchange.head else { return }
        exchange.head = nil
        meter.end(status: exchange.status, in: upstreams.metrics)
        shared.accessLog?.record(
            client: clientAddress, head: head, status: exchange.status, bytes: exchange.responseBodyBytes)
    }

    // MARK: Backend side

    func upstreamResponseHead(_ head: HTTPResponseHead) { perform(machine.responseHead(head)) }

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

    // MARK: Websockets

    private func joinTunnel(context: ChannelHandlerContext) {
        guard let upstream else {
            context.close(promise: nil)
            return
        }
        self.upstream = nil
        do {
            try TunnelSetup.join(
                client: context.channel, upstream: upstream.channel, upstreamHandler: upstream.handler,
                idle: shared.configuration.timeouts.tunnelIdle)
        } catch {
            context.close(promise: nil)
            upstream.close()
        }
    }
}

/// What the access log needs of one exchange.
struct ExchangeRecord {
    var head: HTTPRequestHead?
    var status: UInt = 0
    var requestBodyBytes = 0
    var responseBodyBytes = 0
    var bodyLimit = Int.max

    init() {}

    init(head: HTTPRequestHead) {
        self.head = head
    }
}

extension ExchangeStateMachine {
    /// The body grew past its class's limit: 413 while nothing was answered yet, else close.
    mutating func upstreamFailedForLimit() -> Action {
        switch state {
        case .forwarding(let forwarding) where forwarding.responseStarted:
            return clientClosed()
        case .awaitingUpstream, .forwarding:
            _ = clientClosed()
            return .abandonUpstreamAndRespond(.payloadTooLarge, close: true)
        default:
            return .none
        }
    }
}
