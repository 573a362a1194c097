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
        var machine = HTTPPartsExchange()
        #expect(machine.requestHead(head(), decision: .forward(BackendGroup(backend))) == .acquireUpstream(backend, fresh: false))
        #expect(machine.requestEnd(keepAlive: true) == .none)
        #expect(machine.upstreamAcquired(reused: false) == .sendRequest(head: head(), body: [], end: true))
        let response = HTTPResponseHead(version: .http1_1, status: .ok)
        #expect(machine.responseHead(response) == .forwardResponseHead(response))
        #expect(machine.responseBody(buffer("hi")) == .forwardResponseBody(buffer("hi")))
        #expect(machine.responseEnd(upstreamKeepAlive: true) == .finishResponse(reuseUpstream: true, closeClient: false))
        #expect(machine.isIdle)
    }

    @Test func bodyPartsWaitForTheBackendAndReadingPausesPastTheLimit() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(.POST), decision: .forward(BackendGroup(backend)))
        #expect(machine.wantsClientReads)
        let big = ByteBuffer(repeating: 0, count: HTTPPartsExchange.pendingBodyLimit)
        #expect(machine.requestBody(buffer("a")) == .none)
        #expect(machine.requestBody(big) == .none)
        #expect(!machine.wantsClientReads)
        #expect(machine.upstreamAcquired(reused: false) == .sendRequest(head: head(.POST), body: [buffer("a"), big], end: false))
        #expect(machine.wantsClientReads)
        #expect(machine.requestBody(buffer("b")) == .forwardRequestBody(buffer("b")))
        #expect(machine.requestEnd(keepAlive: true) == .forwardRequestEnd)
    }

    @Test func connectFailureAnswers502AndCloses() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(), decision: .forward(BackendGroup(backend)))
        #expect(machine.upstreamFailed(.connect) == .sendLocalResponse(.badGateway, close: true))
        #expect(!machine.wantsClientReads)
    }

    @Test func timeoutBeforeTheResponseAnswers504() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(), decision: .forward(BackendGroup(backend)))
        _ = machine.requestEnd(keepAlive: true)
        _ = machine.upstreamAcquired(reused: false)
        #expect(machine.upstreamFailed(.timeout) == .abandonUpstreamAndRespond(.gatewayTimeout, close: false))
        #expect(machine.isIdle)
    }

    @Test func aStalePooledConnectionIsRetriedOnceForIdempotentRequests() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(), decision: .forward(BackendGroup(backend)))
        _ = machine.requestEnd(keepAlive: true)
        _ = machine.upstreamAcquired(reused: true)
        #expect(machine.upstreamFailed(.closed) == .retryOnFreshConnection(backend))
        // The retry runs on a fresh connection: a second failure is reported, not retried.
        #expect(machine.upstreamAcquired(reused: false) == .sendRequest(head: head(), body: [], end: true))
        #expect(machine.upstreamFailed(.closed) == .abandonUpstreamAndRespond(.badGateway, close: false))
    }

    @Test func aPostIsNeverReplayed() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(.POST), decision: .forward(BackendGroup(backend)))
        _ = machine.requestEnd(keepAlive: true)
        _ = machine.upstreamAcquired(reused: true)
        #expect(machine.upstreamFailed(.closed) == .abandonUpstreamAndRespond(.badGateway, close: false))
    }

    @Test func failureAfterTheResponseStartedClosesEverything() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(), decision: .forward(BackendGroup(backend)))
        _ = machine.requestEnd(keepAlive: true)
        _ = machine.upstreamAcquired(reused: false)
        _ = machine.responseHead(HTTPResponseHead(version: .http1_1, status: .ok))
        #expect(machine.upstreamFailed(.closed) == .closeAll)
    }

    @Test func anEarlyResponseBeforeTheBodyEndedClosesBothConnections() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(.PUT), decision: .forward(BackendGroup(backend)))
        _ = machine.upstreamAcquired(reused: false)
        _ = machine.responseHead(HTTPResponseHead(version: .http1_1, status: .payloadTooLarge))
        #expect(machine.responseEnd(upstreamKeepAlive: true) == .finishResponse(reuseUpstream: false, closeClient: true))
    }

    @Test func localResponsesKeepTheConnectionUnlessAskedToClose() {
        var machine = HTTPPartsExchange()
        #expect(
            machine.requestHead(head(), decision: .respond(.notFound, closeAfter: false))
                == .sendLocalResponse(.notFound, close: false))
        #expect(machine.requestBody(buffer("ignored")) == .none)
        #expect(machine.requestEnd(keepAlive: true) == .none)
        #expect(machine.isIdle)

        var closing = HTTPPartsExchange()
        #expect(
            closing.requestHead(head(), decision: .respond(.payloadTooLarge, closeAfter: true))
                == .sendLocalResponse(.payloadTooLarge, close: true))
        #expect(!closing.wantsClientReads)
    }

    @Test func theFrontPageIsSentWhenReadyAndTheConnectionKeptAsTheRequestSaid() {
        let page = LocalResponse.frontPage("<p>tools</p>")
        // Ready before the request's end: as any local response.
        var early = HTTPPartsExchange()
        #expect(early.requestHead(head(), decision: .respondLater(closeAfter: false)) == .awaitLocalResponse)
        #expect(!early.isIdle)
        #expect(early.wantsClientReads)
        #expect(early.localResponseReady(page) == .sendLocalResponse(page, close: false))
        #expect(early.requestEnd(keepAlive: true) == .none)
        #expect(early.isIdle)
        // Ready after it: idle at once, or closed when the client asked.
        var late = HTTPPartsExchange()
        _ = late.requestHead(head(), decision: .respondLater(closeAfter: false))
        #expect(late.requestBody(buffer("ignored")) == .none)
        #expect(late.requestEnd(keepAlive: true) == .none)
        #expect(late.localResponseReady(page) == .sendLocalResponse(page, close: false))
        #expect(late.isIdle)
        var closing = HTTPPartsExchange()
        _ = closing.requestHead(head(keepAlive: false), decision: .respondLater(closeAfter: false))
        _ = closing.requestEnd(keepAlive: false)
        #expect(closing.localResponseReady(page) == .sendLocalResponse(page, close: true))
        var closeAfter = HTTPPartsExchange()
        _ = closeAfter.requestHead(head(), decision: .respondLater(closeAfter: true))
        #expect(closeAfter.localResponseReady(page) == .sendLocalResponse(page, close: true))
        // A client gone meanwhile gets nothing; an answer that comes twice is sent once.
        var gone = HTTPPartsExchange()
        _ = gone.requestHead(head(), decision: .respondLater(closeAfter: false))
        #expect(gone.clientClosed() == .closeAll)
        #expect(gone.localResponseReady(page) == .none)
        #expect(late.localResponseReady(page) == .none)
    }

    @Test func switchingProtocolsBecomesATunnel() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(), decision: .forward(BackendGroup(backend)))
        _ = machine.requestEnd(keepAlive: true)
        _ = machine.upstreamAcquired(reused: false)
        let switching = HTTPResponseHead(version: .http1_1, status: .switchingProtocols)
        #expect(machine.responseHead(switching) == .forwardUpgradeHead(switching))
        #expect(!machine.wantsClientReads)
        #expect(machine.responseEnd(upstreamKeepAlive: true) == .joinTunnel)
        #expect(machine.wantsClientReads)
    }

    @Test func clientGoingAwayMidExchangeClosesTheBackendToo() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(), decision: .forward(BackendGroup(backend)))
        #expect(machine.clientClosed() == .closeAll)
        var idle = HTTPPartsExchange()
        #expect(idle.clientClosed() == .none)
    }

    @Test func aSecondHeadWhileBusyIsRefused() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(), decision: .forward(BackendGroup(backend)))
        guard case .sendLocalResponse(let response, close: true) = machine.requestHead(head(), decision: .forward(BackendGroup(backend))) else {
            Issue.record("expected a 400")
            return
        }
        #expect(response.status == .badRequest)
    }

    @Test func theBodyLimitAnswers413UntilTheResponseStarted() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(.POST), decision: .forward(BackendGroup(backend)))
        #expect(machine.upstreamFailedForLimit() == .abandonUpstreamAndRespond(.payloadTooLarge, close: true))
        var started = HTTPPartsExchange()
        _ = started.requestHead(head(.POST), decision: .forward(BackendGroup(backend)))
        _ = started.upstreamAcquired(reused: false)
        _ = started.responseHead(HTTPResponseHead(version: .http1_1, status: .ok))
        #expect(started.upstreamFailedForLimit() == .closeAll)
    }
}

@Suite struct ExchangeRetryTests {
    let first = HostPort(host: "127.0.0.1", port: 9000)
    let second = HostPort(host: "127.0.0.1", port: 9001)
    let third = HostPort(host: "127.0.0.1", port: 9002)

    var group: BackendGroup { BackendGroup([first, second, third])! }

    func head(_ method: HTTPMethod = .GET) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: "/tool/x")
    }

    @Test func theChooserPicksTheFirstBackend() {
        var machine = HTTPPartsExchange()
        let action = machine.requestHead(head(), decision: .forward(group), choose: { _, excluded in
            #expect(excluded.isEmpty)
            return self.third
        })
        #expect(action == .acquireUpstream(third, fresh: false))
    }

    @Test func aFailedConnectMovesOnToTheNextBackendUntilEachWasTried() {
        var machine = HTTPPartsExchange()
        var asked: [[HostPort]] = []
        let choose: BackendChoice = { group, excluded in
            asked.append(excluded)
            return group.backends.first { !excluded.contains($0) }
        }
        #expect(machine.requestHead(head(), decision: .forward(group), choose: choose) == .acquireUpstream(first, fresh: false))
        _ = machine.requestEnd(keepAlive: true)
        #expect(machine.upstreamFailed(.connect, choose: choose) == .acquireUpstream(second, fresh: false))
        #expect(machine.upstreamFailed(.connect, choose: choose) == .acquireUpstream(third, fresh: false))
        #expect(asked == [[], [first], [first, second]])
        #expect(machine.upstreamFailed(.connect, choose: choose) == .sendLocalResponse(.badGateway, close: true))
        #expect(asked.count == 3, "the chooser is not asked once every backend failed")
    }

    @Test func theRetryCarriesTheBufferedBody() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(.POST), decision: .forward(group))
        _ = machine.requestBody(ByteBuffer(string: "payload"))
        #expect(machine.upstreamFailed(.connect) == .acquireUpstream(second, fresh: false))
        _ = machine.requestEnd(keepAlive: true)
        #expect(machine.upstreamAcquired(reused: false) == .sendRequest(head: head(.POST), body: [ByteBuffer(string: "payload")], end: true))
    }

    @Test func aLoneBackendThatRefusesAnswers502AtOnce() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(), decision: .forward(BackendGroup(first)))
        #expect(machine.upstreamFailed(.connect, choose: { _, _ in
            Issue.record("nothing is left to choose")
            return nil
        }) == .sendLocalResponse(.badGateway, close: true))
    }

    @Test func aChooserWithNothingLeftEndsTheRetries() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(), decision: .forward(group))
        #expect(machine.upstreamFailed(.connect, choose: { _, _ in nil }) == .sendLocalResponse(.badGateway, close: true))
    }

    @Test func timeoutsAndFailuresAfterSendingAreNotMovedElsewhere() {
        var waiting = HTTPPartsExchange()
        _ = waiting.requestHead(head(), decision: .forward(group))
        #expect(waiting.upstreamFailed(.timeout) == .sendLocalResponse(.gatewayTimeout, close: true))

        var sent = HTTPPartsExchange()
        _ = sent.requestHead(head(.POST), decision: .forward(group))
        _ = sent.requestEnd(keepAlive: true)
        _ = sent.upstreamAcquired(reused: false)
        #expect(sent.upstreamFailed(.closed) == .abandonUpstreamAndRespond(.badGateway, close: false))
    }

    @Test func aStaleConnectionIsRetriedOnItsBackendThenOthers() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(head(), decision: .forward(group))
        _ = machine.requestEnd(keepAlive: true)
        _ = machine.upstreamAcquired(reused: true)
        #expect(machine.upstreamFailed(.closed) == .retryOnFreshConnection(first))
        // The backend is gone altogether: its fresh connect fails, the others remain.
        #expect(machine.upstreamFailed(.connect) == .acquireUpstream(second, fresh: false))
        #expect(machine.upstreamAcquired(reused: false) == .sendRequest(head: head(), body: [], end: true))
    }
}

@Suite struct MalformedRequestTests {
    let backend = HostPort(host: "127.0.0.1", port: 9000)

    @Test func malformedBodyBeforeTheResponseAnswers400AndCloses() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/t/"), decision: .forward(BackendGroup(backend)))
        _ = machine.upstreamAcquired(reused: false)
        let response = LocalResponse.badRequest("bad chunk")
        #expect(machine.requestMalformed(response) == .abandonUpstreamAndRespond(response, close: true))
        #expect(!machine.wantsClientReads)
    }

    @Test func malformedBytesAfterTheResponseStartedOnlyClose() {
        var machine = HTTPPartsExchange()
        _ = machine.requestHead(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/t/"), decision: .forward(BackendGroup(backend)))
        _ = machine.upstreamAcquired(reused: false)
        _ = machine.responseHead(HTTPResponseHead(version: .http1_1, status: .ok))
        #expect(machine.requestMalformed(.badRequest("x")) == .closeAll)
    }

    @Test func aMalformedHeadOnAnIdleConnectionAnswersTheGivenStatus() {
        var machine = HTTPPartsExchange()
        #expect(machine.requestMalformed(.headersTooLarge) == .abandonUpstreamAndRespond(.headersTooLarge, close: true))
    }
}
