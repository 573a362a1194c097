import KilnCore
import NIOCore
import NIOHTTP1
import Testing

@testable import KilnProxy

@Suite struct ExchangeStateMachineTests {
    let backend = HostPort(host: "127.0.0.1", port: 9000)

    func head(_ method: HTTPMethod = .GET, keepAlive: Bool = true) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: "/tool/x")
        if !keepAlive { head.headers.add(name: "Connection", value: "close") }
        return head
    }

    func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func getIsForwardedAndTheConnectionIsReused() {
        var machine = ExchangeStateMachine()
        #expect(machine.requestHead(head(), decision: .forward(backend)) == .acquireUpstream(backend, fresh: false))
        #expect(machine.requestEnd(keepAlive: true) == .none)
        #expect(machine.upstreamAcquired(reused: false) == .sendRequest(head: head(), body: [], end: true))
        let response = HTTPResponseHead(version: .http1_1, status: .ok)
        #expect(machine.responseHead(response) == .forwardResponseHead(response))
        #expect(machine.responseBody(buffer("hi")) == .forwardResponseBody(buffer("hi")))
        #expect(machine.responseEnd(upstreamKeepAlive: true) == .finishResponse(reuseUpstream: true, closeClient: false))
        #expect(machine.isIdle)
    }

    @Test func bodyPartsWaitForTheBackendAndReadingPausesPastTheLimit() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(head(.POST), decision: .forward(backend))
        #expect(machine.wantsClientReads)
        let big = ByteBuffer(repeating: 0, count: ExchangeStateMachine.pendingBodyLimit)
        #expect(machine.requestBody(buffer("a")) == .none)
        #expect(machine.requestBody(big) == .none)
        #expect(!machine.wantsClientReads)
        #expect(machine.upstreamAcquired(reused: false) == .sendRequest(head: head(.POST), body: [buffer("a"), big], end: false))
        #expect(machine.wantsClientReads)
        #expect(machine.requestBody(buffer("b")) == .forwardRequestBody(buffer("b")))
        #expect(machine.requestEnd(keepAlive: true) == .forwardRequestEnd)
    }

    @Test func connectFailureAnswers502AndCloses() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(head(), decision: .forward(backend))
        #expect(machine.upstreamFailed(.connect) == .sendLocalResponse(.badGateway, close: true))
        #expect(!machine.wantsClientReads)
    }

    @Test func timeoutBeforeTheResponseAnswers504() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(head(), decision: .forward(backend))
        _ = machine.requestEnd(keepAlive: true)
        _ = machine.upstreamAcquired(reused: false)
        #expect(machine.upstreamFailed(.timeout) == .abandonUpstreamAndRespond(.gatewayTimeout, close: false))
        #expect(machine.isIdle)
    }

    @Test func aStalePooledConnectionIsRetriedOnceForIdempotentRequests() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(head(), decision: .forward(backend))
        _ = machine.requestEnd(keepAlive: true)
        _ = machine.upstreamAcquired(reused: true)
        #expect(machine.upstreamFailed(.closed) == .retryOnFreshConnection(backend))
        // The retry runs on a fresh connection: a second failure is reported, not retried.
        #expect(machine.upstreamAcquired(reused: false) == .sendRequest(head: head(), body: [], end: true))
        #expect(machine.upstreamFailed(.closed) == .abandonUpstreamAndRespond(.badGateway, close: false))
    }

    @Test func aPostIsNeverReplayed() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(head(.POST), decision: .forward(backend))
        _ = machine.requestEnd(keepAlive: true)
        _ = machine.upstreamAcquired(reused: true)
        #expect(machine.upstreamFailed(.closed) == .abandonUpstreamAndRespond(.badGateway, close: false))
    }

    @Test func failureAfterTheResponseStartedClosesEverything() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(head(), decision: .forward(backend))
        _ = machine.requestEnd(keepAlive: true)
        _ = machine.upstreamAcquired(reused: false)
        _ = machine.responseHead(HTTPResponseHead(version: .http1_1, status: .ok))
        #expect(machine.upstreamFailed(.closed) == .closeAll)
    }

    @Test func anEarlyResponseBeforeTheBodyEndedClosesBothConnections() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(head(.PUT), decision: .forward(backend))
        _ = machine.upstreamAcquired(reused: false)
        _ = machine.responseHead(HTTPResponseHead(version: .http1_1, status: .payloadTooLarge))
        #expect(machine.responseEnd(upstreamKeepAlive: true) == .finishResponse(reuseUpstream: false, closeClient: true))
    }

    @Test func localResponsesKeepTheConnectionUnlessAskedToClose() {
        var machine = ExchangeStateMachine()
        #expect(
            machine.requestHead(head(), decision: .respond(.notFound, closeAfter: false))
                == .sendLocalResponse(.notFound, close: false))
        #expect(machine.requestBody(buffer("ignored")) == .none)
        #expect(machine.requestEnd(keepAlive: true) == .none)
        #expect(machine.isIdle)

        var closing = ExchangeStateMachine()
        #expect(
            closing.requestHead(head(), decision: .respond(.payloadTooLarge, closeAfter: true))
                == .sendLocalResponse(.payloadTooLarge, close: true))
        #expect(!closing.wantsClientReads)
    }

    @Test func switchingProtocolsBecomesATunnel() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(head(), decision: .forward(backend))
        _ = machine.requestEnd(keepAlive: true)
        _ = machine.upstreamAcquired(reused: false)
        let switching = HTTPResponseHead(version: .http1_1, status: .switchingProtocols)
        #expect(machine.responseHead(switching) == .forwardUpgradeHead(switching))
        #expect(!machine.wantsClientReads)
        #expect(machine.responseEnd(upstreamKeepAlive: true) == .joinTunnel)
        #expect(machine.wantsClientReads)
    }

    @Test func clientGoingAwayMidExchangeClosesTheBackendToo() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(head(), decision: .forward(backend))
        #expect(machine.clientClosed() == .closeAll)
        var idle = ExchangeStateMachine()
        #expect(idle.clientClosed() == .none)
    }

    @Test func aSecondHeadWhileBusyIsRefused() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(head(), decision: .forward(backend))
        guard case .sendLocalResponse(let response, close: true) = machine.requestHead(head(), decision: .forward(backend)) else {
            Issue.record("expected a 400")
            return
        }
        #expect(response.status == .badRequest)
    }

    @Test func theBodyLimitAnswers413UntilTheResponseStarted() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(head(.POST), decision: .forward(backend))
        #expect(machine.upstreamFailedForLimit() == .abandonUpstreamAndRespond(.payloadTooLarge, close: true))
        var started = ExchangeStateMachine()
        _ = started.requestHead(head(.POST), decision: .forward(backend))
        _ = started.upstreamAcquired(reused: false)
        _ = started.responseHead(HTTPResponseHead(version: .http1_1, status: .ok))
        #expect(started.upstreamFailedForLimit() == .closeAll)
    }
}

@Suite struct MalformedRequestTests {
    let backend = HostPort(host: "127.0.0.1", port: 9000)

    @Test func malformedBodyBeforeTheResponseAnswers400AndCloses() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/t/"), decision: .forward(backend))
        _ = machine.upstreamAcquired(reused: false)
        let response = LocalResponse.badRequest("bad chunk")
        #expect(machine.requestMalformed(response) == .abandonUpstreamAndRespond(response, close: true))
        #expect(!machine.wantsClientReads)
    }

    @Test func malformedBytesAfterTheResponseStartedOnlyClose() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/t/"), decision: .forward(backend))
        _ = machine.upstreamAcquired(reused: false)
        _ = machine.responseHead(HTTPResponseHead(version: .http1_1, status: .ok))
        #expect(machine.requestMalformed(.badRequest("x")) == .closeAll)
    }

    @Test func aMalformedHeadOnAnIdleConnectionAnswersTheGivenStatus() {
        var machine = ExchangeStateMachine()
        #expect(machine.requestMalformed(.headersTooLarge) == .abandonUpstreamAndRespond(.headersTooLarge, close: true))
    }
}
