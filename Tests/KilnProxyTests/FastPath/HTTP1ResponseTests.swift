import NIOCore
import Testing

@testable import KilnProxy

@Suite struct HTTP1ResponseTests {
    let allocator = ByteBufferAllocator()

    func parse(_ text: String, requestWasHEAD: Bool = false, clientKeepAlive: Bool = true) -> HTTP1Response.Parse {
        HTTP1Response.parse(
            ByteBuffer(string: text), requestWasHEAD: requestWasHEAD, clientKeepAlive: clientKeepAlive, allocator: allocator)
    }

    struct ParseFailed: Error {}

    func parsedResponse(
        _ text: String, requestWasHEAD: Bool = false, clientKeepAlive: Bool = true
    ) throws -> (response: HTTP1Response, consumed: Int) {
        let parsed = parse(text, requestWasHEAD: requestWasHEAD, clientKeepAlive: clientKeepAlive)
        guard case .response(let response, let consumed) = parsed else {
            Issue.record("not parsed as a response: \(parsed)")
            throw ParseFailed()
        }
        return (response, consumed)
    }

    func isInvalid(_ parsed: HTTP1Response.Parse) -> Bool {
        if case .invalid = parsed { return true }
        return false
    }

    @Test func aContentLengthResponseKeepsItsEndToEndFieldsAndDropsHopByHopOnes() throws {
        let head =
            "HTTP/1.1 200 OK\r\n"
            + "Content-Type: text/plain\r\n"
            + "Connection: keep-alive\r\n"
            + "Content-Length: 5\r\n"
            + "Keep-Alive: timeout=5, max=100\r\n"
            + "Trailer: X-Checksum\r\n"
            + "Upgrade: h2c\r\n"
            + "Proxy-Authenticate: Basic\r\n"
            + "Set-Cookie: a=b\r\n"
            + "\r\n"
        let (response, consumed) = try parsedResponse(head + "hello")
        #expect(response.status == 200)
        #expect(response.framing == .length(5))
        #expect(response.keepAlive)
        #expect(!response.isChunkedToClient)
        #expect(!response.isInformational)
        #expect(consumed == head.utf8.count)
        #expect(
            String(buffer: response.forwarded)
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nSet-Cookie: a=b\r\n\r\n")
    }

    @Test func fieldsNamedByConnectionAreDroppedWhereverTheyAppear() throws {
        let head =
            "HTTP/1.1 200 OK\r\n"
            + "X-Secret: 1\r\n"
            + "Connection: X-SECRET, keep-alive, x-other\r\n"
            + "Content-Length: 0\r\n"
            + "x-secret: 2\r\n"
            + "X-Secretive: 3\r\n"
            + "X-Other: 4\r\n"
            + "\r\n"
        let (response, consumed) = try parsedResponse(head)
        #expect(consumed == head.utf8.count)
        #expect(response.framing == .length(0))
        #expect(response.keepAlive)
        #expect(String(buffer: response.forwarded) == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Secretive: 3\r\n\r\n")
    }

    @Test func connectionCloseIsAddedWhenTheClientDoesNotKeepAlive() throws {
        let (response, _) = try parsedResponse(
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n", clientKeepAlive: false)
        #expect(response.keepAlive)  // The backend's connection stays usable.
        #expect(String(buffer: response.forwarded) == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n")
    }

    @Test func theBackendsConnectionCloseEndsItsKeepAliveButIsNotForwarded() throws {
        let (response, _) = try parsedResponse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n")
        #expect(!response.keepAlive)
        #expect(response.framing == .length(2))
        #expect(String(buffer: response.forwarded) == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
    }

    @Test func aChunkedResponseIsReChunkedForTheClient() throws {
        let (response, _) = try parsedResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n")
        #expect(response.framing == .chunked)
        #expect(response.keepAlive)
        #expect(response.isChunkedToClient)
        #expect(String(buffer: response.forwarded) == "HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n")

        let (closing, _) = try parsedResponse("HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n", clientKeepAlive: false)
        #expect(closing.framing == .chunked)
        #expect(String(buffer: closing.forwarded) == "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    }

    @Test func chunkedWithAContentLengthIsChunkedWithoutTheLengthAndClosesTheBackend() throws {
        for head in [
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nContent-Length: 10\r\n\r\n",
        ] {
            let (response, consumed) = try parsedResponse(head)
            #expect(consumed == head.utf8.count)
            #expect(response.framing == .chunked)
            #expect(!response.keepAlive)
            #expect(String(buffer: response.forwarded) == "HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
        }
    }

    /// RFC 9112 §6.3: a message with both Transfer-Encoding and Content-Length "ought to be handled as an error"; an
    /// intermediary that forwards it "MUST first remove the received Content-Length field". Here the length is
    /// unparseable, which must not make the proxy forward it.
    @Test func chunkedWithAMalformedContentLengthDropsTheLengthAndClosesTheBackend() throws {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: abc\r\nTransfer-Encoding: chunked\r\n\r\n"
        // Refusing the response would be as right.
        if isInvalid(parse(head)) { return }
        let (response, _) = try parsedResponse(head)
        #expect(response.framing == .chunked)
        #expect(!response.keepAlive)
        #expect(String(buffer: response.forwarded) == "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    }

    /// RFC 9112 §6.2: "A sender MUST NOT send a Content-Length header field in any message that contains a
    /// Transfer-Encoding header field"; the client gets the body chunked, so the backend's length must go.
    @Test func aNonChunkedTransferCodingWithAContentLengthDoesNotForwardTheLength() throws {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 10\r\n\r\n"
        // Refusing the response would be as right.
        if isInvalid(parse(head)) { return }
        let (response, _) = try parsedResponse(head)
        #expect(response.framing == .untilClose)
        #expect(!response.keepAlive)
        #expect(!String(buffer: response.forwarded).lowercased().contains("content-length"))
    }

    /// The reader takes off only the chunked framing: any other transfer coding is still on the body, so the
    /// client must be told of it (or the response refused), not given coded bytes as if they were the content.
    @Test func aTransferCodingOtherThanChunkedIsRefusedNotSilentlyDropped() throws {
        for head in [
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            #expect(isInvalid(parse(head)), "\(head.debugDescription)")
        }
    }

    @Test func withoutFramingTheBodyRunsUntilCloseAndTheClientGetsItChunked() throws {
        let (response, _) = try parsedResponse("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n")
        #expect(response.framing == .untilClose)
        #expect(!response.keepAlive)
        #expect(response.isChunkedToClient)
        #expect(String(buffer: response.forwarded) == "HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
    }

    @Test func http10KeepsAliveOnlyWhenItSaysSo() throws {
        let (plain, _) = try parsedResponse("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n")
        #expect(plain.framing == .length(3))
        #expect(!plain.keepAlive)
        #expect(String(buffer: plain.forwarded) == "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n")

        let (keepAlive, _) = try parsedResponse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 3\r\n\r\n")
        #expect(keepAlive.framing == .length(3))
        #expect(keepAlive.keepAlive)
        #expect(String(buffer: keepAlive.forwarded) == "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n")

        let (untilClose, _) = try parsedResponse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n")
        #expect(untilClose.framing == .untilClose)
        #expect(!untilClose.keepAlive)
    }

    @Test func aResponseToHEADHasNoBodyButKeepsItsContentLength() throws {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
        let (response, consumed) = try parsedResponse(head, requestWasHEAD: true)
        #expect(consumed == head.utf8.count)
        #expect(response.framing == .none)
        #expect(response.keepAlive)
        #expect(String(buffer: response.forwarded) == head)

        let (noLength, _) = try parsedResponse("HTTP/1.1 200 OK\r\n\r\n", requestWasHEAD: true)
        #expect(noLength.framing == .none)
        #expect(noLength.keepAlive)
        #expect(String(buffer: noLength.forwarded) == "HTTP/1.1 200 OK\r\n\r\n")
    }

    @Test func noContentAndNotModifiedHaveNoBody() throws {
        let (noContent, _) = try parsedResponse("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n")
        #expect(noContent.status == 204)
        #expect(noContent.framing == .none)
        #expect(noContent.keepAlive)
        #expect(String(buffer: noContent.forwarded) == "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n")

        let (notModified, _) = try parsedResponse("HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nETag: \"x\"\r\n\r\n")
        #expect(notModified.status == 304)
        #expect(notModified.framing == .none)
        #expect(notModified.keepAlive)
        #expect(String(buffer: notModified.forwarded) == "HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nETag: \"x\"\r\n\r\n")
    }

    @Test func anInformationalResponseHasNoBodyAndNoConnectionClose() throws {
        let head = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        let (response, consumed) = try parsedResponse(head + "HTTP/1.1 200 OK\r\n", clientKeepAlive: false)
        #expect(consumed == head.utf8.count)
        #expect(response.status == 103)
        #expect(response.isInformational)
        #expect(!response.isSwitchingProtocols)
        #expect(response.framing == .none)
        #expect(!response.isChunkedToClient)
        #expect(String(buffer: response.forwarded) == head)
    }

    @Test func switchingProtocolsIsRefused() {
        #expect(isInvalid(parse("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")))
    }

    @Test func contentLengthsThatDisagreeOrAreNotNumbersAreRefused() throws {
        #expect(isInvalid(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n")))
        #expect(isInvalid(parse("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n")))
        #expect(isInvalid(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: x\r\n\r\n")))
        #expect(isInvalid(parse("HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n")))
        #expect(isInvalid(parse("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n")))
        let (same, _) = try parsedResponse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n")
        #expect(same.framing == .length(3))
    }

    @Test(arguments: [
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.2 200 OK\r\n\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "HTTX/1.1 200 OK\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",
        "HTTP/1.1 200 OK\nX-A: 1\r\n\r\n",
        "HTTP/1.1 200 O\u{0}K\r\n\r\n",
        "HTTP/1.1 200 OK\rX\r\n\r\n",
    ])
    func malformedStatusLinesAreInvalid(_ head: String) {
        #expect(isInvalid(parse(head)), "\(head.debugDescription)")
    }

    /// The status line is `HTTP/1.x SP 3DIGIT [SP reason] CRLF` (RFC 9112 §4, and the parser's own comment): a
    /// fourth digit is not a reason phrase, and must not reach the client as "HTTP/1.1 2000 OK" with status 200.
    @Test func aStatusCodeOfFourDigitsIsInvalid() {
        #expect(isInvalid(parse("HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n")))
        #expect(isInvalid(parse("HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n")))
    }

    @Test func aStatusLineWithoutAReasonIsAccepted() throws {
        let (bare, _) = try parsedResponse("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")
        #expect(bare.status == 200)
        #expect(String(buffer: bare.forwarded) == "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")
        let (empty, _) = try parsedResponse("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n")
        #expect(empty.status == 404)
    }

    @Test func malformedFieldsAreInvalid() {
        #expect(isInvalid(parse("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n")))
        #expect(isInvalid(parse("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n")))
        #expect(isInvalid(parse("HTTP/1.1 200 OK\r\nX-A: 1\n\r\n")))
        #expect(isInvalid(parse("HTTP/1.1 200 OK\r\nX-A: a\u{7F}\r\n\r\n")))
    }

    @Test func everyPrefixOfAValidHeadIsIncomplete() throws {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: keep-alive\r\nContent-Length: 12\r\n\r\n"
        let bytes = Array(head.utf8)
        for length in 0..<bytes.count {
            let parsed = HTTP1Response.parse(
                ByteBuffer(bytes: bytes[0..<length]), requestWasHEAD: false, clientKeepAlive: true, allocator: allocator)
            #expect(parsed == .incomplete, "prefix of \(length) bytes")
        }
        #expect(try parsedResponse(head).consumed == bytes.count)
    }

    @Test func theHeadIsReadFromTheReaderIndex() throws {
        var buffer = ByteBuffer(string: "leftoverHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")
        buffer.moveReaderIndex(forwardBy: 8)
        guard case .response(let response, let consumed) = HTTP1Response.parse(
            buffer, requestWasHEAD: false, clientKeepAlive: true, allocator: allocator)
        else {
            Issue.record("not parsed")
            return
        }
        #expect(consumed == "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n".utf8.count)
        #expect(response.framing == .length(1))
    }
}
