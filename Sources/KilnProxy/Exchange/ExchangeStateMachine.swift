import KilnCore
import NIOCore
import NIOHTTP1

typealias BackendAddress = HostPort

/// Picks a backend of the group that is not among those excluded (they failed for this request);
/// nil when none is left. The proxy handler's chooser balances with its event loop's `BackendSelector`.
typealias BackendChoice = (_ group: BackendGroup, _ excluding: [BackendAddress]) -> BackendAddress?

/// What the exchange needs to know of a request head, whichever codec parsed it.
protocol ExchangeRequestHead: Equatable, Sendable {
    /// The client keeps its connection open after this exchange.
    var isKeepAlive: Bool { get }
    /// Replaying it on another connection is safe (RFC 9110 §9.2.2).
    var isIdempotent: Bool { get }
}

/// What the exchange needs to know of a response head.
protocol ExchangeResponseHead: Equatable, Sendable {
    var isSwitchingProtocols: Bool { get }
}

/// The exchange of the general path: NIOHTTP1's parts (HTTP/1.x of every kind, HTTP/2 streams).
typealias HTTPPartsExchange = ExchangeStateMachine<HTTPRequestHead, HTTPResponseHead>

/// The life of one request/response exchange on a client connection, as a pure state machine:
/// the proxy handler feeds it events and carries out the actions it returns. No I/O here, so every
/// transition is unit-tested. Generic over the heads, so that the general path (NIOHTTP1's parts)
/// and the HTTP/1.1 fast path (heads kept as bytes) share one logic.
struct ExchangeStateMachine<Head: ExchangeRequestHead, ResponseHead: ExchangeResponseHead> {
    enum State {
        /// Between exchanges: waiting for a request head.
        case idle
        /// A head arrived for a backend; a connection to it is being acquired. Body parts wait.
        case awaitingUpstream(Pending)
        /// The request is going to the backend and its response coming back.
        case forwarding(Forwarding)
        /// The proxy answered by itself (error page, redirect); the rest of the request is dropped.
        case respondingLocally(requestComplete: Bool)
        /// The proxy answers by itself once its answer is ready (the front page, being fetched);
        /// the rest of the request is dropped.
        case awaitingLocalResponse(AwaitingLocal)
        /// The backend answered 101: its head goes to the client; at the response's end the
        /// connections are joined.
        case upgrading
        /// The backend switched protocols (websocket): bytes now pass through untouched.
        case upgraded
        /// The connection is closing or closed.
        case closed
    }

    struct Pending {
        var head: Head
        var group: BackendGroup
        var backend: BackendAddress
        /// Backends of the group that could not be connected to for this request.
        var failedBackends: [BackendAddress] = []
        var body: [ByteBuffer] = []
        var bufferedBytes = 0
        var requestComplete = false
    }

    struct AwaitingLocal {
        var closeAfter: Bool
        /// The request's end came meanwhile, and whether its connection stays open after.
        var requestEnded = false
        var keepAlive = false
    }

    struct Forwarding {
        var head: Head
        var group: BackendGroup
        var backend: BackendAddress
        var requestComplete: Bool
        var responseStarted = false
        var reusedConnection: Bool
        var sentBodyBytes: Int
    }

    enum UpstreamFailure: Equatable {
        case connect
        case timeout
        case closed
    }

    enum Action: Equatable {
        case none
        case acquireUpstream(BackendAddress, fresh: Bool)
        case sendLocalResponse(LocalResponse, close: Bool)
        /// Get the proxy's own answer (the front page) and report it with `localResponseReady`.
        case awaitLocalResponse
        /// Send head, the buffered parts and (when complete) the end of the request upstream.
        case sendRequest(head: Head, body: [ByteBuffer], end: Bool)
        case forwardRequestBody(ByteBuffer)
        case forwardRequestEnd
        case forwardResponseHead(ResponseHead)
        case forwardResponseBody(ByteBuffer)
        /// The response is complete: finish it to the client; `reuseUpstream` says whether the
        /// backend connection goes back to the pool; `closeClient` whether the client's goes away.
        case finishResponse(reuseUpstream: Bool, closeClient: Bool)
        /// Give up the backend connection (broken or half-used) and answer locally.
        case abandonUpstreamAndRespond(LocalResponse, close: Bool)
        /// Give up the backend connection and retry on a fresh one (nothing was sent back yet).
        case retryOnFreshConnection(BackendAddress)
        /// Close both connections: the response had started, there is no way to report an error.
        case closeAll
        /// Send the backend's 101 head to the client.
        case forwardUpgradeHead(ResponseHead)
        /// Join the two connections into a byte tunnel.
        case joinTunnel
    }

    /// Bytes of request body held while the backend connection is acquired; past it reading pauses.
    static var pendingBodyLimit: Int { 256 * 1024 }

    private(set) var state: State = .idle

    /// Whether the proxy should read more from the client now.
    var wantsClientReads: Bool {
        switch state {
        case .idle, .forwarding, .respondingLocally, .awaitingLocalResponse, .upgraded: true
        case .upgrading: false
        case .awaitingUpstream(let pending): pending.bufferedBytes < Self.pendingBodyLimit
        case .closed: false
        }
    }

    var isIdle: Bool { if case .idle = state { true } else { false } }

    mutating func requestHead(
        _ head: Head, decision: RoutingDecision, choose: BackendChoice = Self.firstRemaining
    ) -> Action {
        guard case .idle = state else {
            state = .closed
            return .sendLocalResponse(.badRequest("unexpected request head"), close: true)
        }
        switch decision {
        case .forward(let group):
            guard let backend = choose(group, []) else {
                state = .closed
                return .sendLocalResponse(.badGateway, close: true)
            }
            state = .awaitingUpstream(Pending(head: head, group: group, backend: backend))
            return .acquireUpstream(backend, fresh: false)
        case .respond(let response, let closeAfter):
            if closeAfter {
                state = .closed
                return .sendLocalResponse(response, close: true)
            }
            state = .respondingLocally(requestComplete: false)
            return .sendLocalResponse(response, close: false)
        case .respondLater(let closeAfter):
            state = .awaitingLocalResponse(AwaitingLocal(closeAfter: closeAfter))
            return .awaitLocalResponse
        }
    }

    /// The answer `awaitLocalResponse` asked for: sent as a local response would have been, the
    /// connection kept or closed as the request's end (if it came meanwhile) said.
    mutating func localResponseReady(_ response: LocalResponse) -> Action {
        guard case .awaitingLocalResponse(let awaiting) = state else { return .none }
        if awaiting.closeAfter || (awaiting.requestEnded && !awaiting.keepAlive) {
            state = .closed
            return .sendLocalResponse(response, close: true)
        }
        state = awaiting.requestEnded ? .idle : .respondingLocally(requestComplete: false)
        return .sendLocalResponse(response, close: false)
    }

    mutating func requestBody(_ buffer: ByteBuffer) -> Action {
        switch state {
        case .awaitingUpstream(var pending):
            pending.bufferedBytes += buffer.readableBytes
            pending.body.append(buffer)
            state = .awaitingUpstream(pending)
            return .none
        case .forwarding(var forwarding):
            forwarding.sentBodyBytes += buffer.readableBytes
            state = .forwarding(forwarding)
            return .forwardRequestBody(buffer)
        case .idle, .respondingLocally, .awaitingLocalResponse, .upgrading, .upgraded, .closed:
            // Answered locally, or nothing to carry it to: the body is dropped.
            return .none
        }
    }

    mutating func requestEnd(keepAlive: Bool) -> Action {
        switch state {
        case .awaitingUpstream(var pending):
            pending.requestComplete = true
            state = .awaitingUpstream(pending)
            return .none
        case .forwarding(var forwarding):
            forwarding.requestComplete = true
            state = .forwarding(forwarding)
            return .forwardRequestEnd
        case .awaitingLocalResponse(var awaiting):
            awaiting.requestEnded = true
            awaiting.keepAlive = keepAlive
            state = .awaitingLocalResponse(awaiting)
            return .none
        case .respondingLocally:
            if keepAlive {
                state = .idle
                return .none
            }
            state = .closed
            return .closeAll
        case .idle, .upgrading, .upgraded, .closed:
            return .none
        }
    }

    mutating func upstreamAcquired(reused: Bool) -> Action {
        guard case .awaitingUpstream(let pending) = state else { return .none }
        state = .forwarding(
            Forwarding(
                head: pending.head, group: pending.group, backend: pending.backend, requestComplete: pending.requestComplete,
                reusedConnection: reused, sentBodyBytes: pending.bufferedBytes))
        return .sendRequest(head: pending.head, body: pending.body, end: pending.requestComplete)
    }

    /// The backend connection failed. A failed connect sent nothing, so the request moves on to
    /// another backend of its group (`choose` picks it) until each was tried once; then 502.
    mutating func upstreamFailed(_ failure: UpstreamFailure, choose: BackendChoice = Self.firstRemaining) -> Action {
        switch state {
        case .awaitingUpstream(var pending):
            if failure == .connect {
                pending.failedBackends.append(pending.backend)
                if pending.failedBackends.count < pending.group.count,
                    let next = choose(pending.group, pending.failedBackends)
                {
                    pending.backend = next
                    state = .awaitingUpstream(pending)
                    return .acquireUpstream(next, fresh: false)
                }
            }
            state = .closed
            return .sendLocalResponse(failure == .timeout ? .gatewayTimeout : .badGateway, close: true)
        case .forwarding(let forwarding):
            if forwarding.responseStarted {
                state = .closed
                return .closeAll
            }
            // A pooled connection the backend had closed: replay an idempotent bodiless request.
            if failure == .closed, forwarding.reusedConnection, forwarding.requestComplete,
                forwarding.sentBodyBytes == 0, forwarding.head.isIdempotent
            {
                var pending = Pending(head: forwarding.head, group: forwarding.group, backend: forwarding.backend)
                pending.requestComplete = true
                state = .awaitingUpstream(pending)
                return .retryOnFreshConnection(forwarding.backend)
            }
            let response: LocalResponse = failure == .timeout ? .gatewayTimeout : .badGateway
            // The request body may be half sent: the client connection can't be reused.
            let close = !forwarding.requestComplete || !forwarding.head.isKeepAlive
            state = close ? .closed : .idle
            return .abandonUpstreamAndRespond(response, close: close)
        case .idle, .respondingLocally, .awaitingLocalResponse, .upgrading, .upgraded, .closed:
            // No backend exchange is under way: a late failure of one already finished.
            return .none
        }
    }

    mutating func responseHead(_ head: ResponseHead) -> Action {
        guard case .forwarding(var forwarding) = state else { return .none }
        if head.isSwitchingProtocols {
            state = .upgrading
            return .forwardUpgradeHead(head)
        }
        forwarding.responseStarted = true
        state = .forwarding(forwarding)
        return .forwardResponseHead(head)
    }

    mutating func responseBody(_ buffer: ByteBuffer) -> Action {
        guard case .forwarding = state else { return .none }
        return .forwardResponseBody(buffer)
    }

    mutating func responseEnd(upstreamKeepAlive: Bool) -> Action {
        if case .upgrading = state {
            state = .upgraded
            return .joinTunnel
        }
        guard case .forwarding(let forwarding) = state else { return .none }
        if forwarding.requestComplete {
            let clientKeepAlive = forwarding.head.isKeepAlive
            state = clientKeepAlive ? .idle : .closed
            return .finishResponse(reuseUpstream: upstreamKeepAlive, closeClient: !clientKeepAlive)
        }
        // The backend answered before reading the whole body: neither connection is reusable.
        state = .closed
        return .finishResponse(reuseUpstream: false, closeClient: true)
    }

    /// The client's bytes stopped making sense (bad chunking, an oversized head): 400 (or the
    /// given response) and close, unless the response had begun, then just close.
    mutating func requestMalformed(_ response: LocalResponse) -> Action {
        switch state {
        case .forwarding(let forwarding) where forwarding.responseStarted:
            state = .closed
            return .closeAll
        case .closed, .upgraded, .upgrading:
            state = .closed
            return .closeAll
        case .idle, .awaitingUpstream, .forwarding, .respondingLocally, .awaitingLocalResponse:
            state = .closed
            return .abandonUpstreamAndRespond(response, close: true)
        }
    }

    mutating func clientClosed() -> Action {
        switch state {
        case .closed, .idle:
            state = .closed
            return .none
        case .awaitingUpstream, .forwarding, .respondingLocally, .awaitingLocalResponse, .upgrading, .upgraded:
            state = .closed
            return .closeAll
        }
    }
}

/// What the router decided for a request head.
enum RoutingDecision: Equatable {
    /// To one of these backends.
    case forward(BackendGroup)
    case respond(LocalResponse, closeAfter: Bool)
    /// The proxy answers by itself once its answer is ready (`awaitLocalResponse`).
    case respondLater(closeAfter: Bool)
}

extension ExchangeStateMachine {
    /// The group's first backend not excluded, in registration order (for tests and callers
    /// that do not balance).
    static func firstRemaining(_ group: BackendGroup, excluding: [BackendAddress]) -> BackendAddress? {
        group.backends.first { !excluding.contains($0) }
    }
}

extension HTTPMethod {
    var isIdempotent: Bool {
        switch self {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: true
        default: false
        }
    }
}

extension HTTPRequestHead: ExchangeRequestHead {
    var isIdempotent: Bool { method.isIdempotent }
}

extension HTTPResponseHead: ExchangeResponseHead {
    var isSwitchingProtocols: Bool { status == .switchingProtocols }
}
