import NIOCore
import Testing

@testable import KilnProxy

@Suite struct HTTP1RequestTests {
    let allocator = ByteBufferAllocator()

    func parse(_ text: String, maxHeadBytes: Int = 8192) -> HTTP1Request.Parse {
        HTTP1Request.parse(ByteBuffer(string: text), maxHeadBytes: maxHeadBytes, allocator: allocator)
    }

    func request(_ text: String, maxHeadBytes: Int = 8192) throws -> HTTP1Request {
        guard case .request(let request) = parse(text, maxHeadBytes: maxHeadBytes) else {
            Issue.record("not parsed as a fast-path request: \(parse(text, maxHeadBytes: maxHeadBytes))")
            throw ParseFailed()
        }
        return request
    }

    struct ParseFailed: Error {}

    func string(_ request: HTTP1Request, _ range: Range<Int>?) -> String? {
        range.flatMap { request.head.getString(at: $0.lowerBound, length: $0.count) }
    }

    /// The forwarded head, once the proxy's fields are added, as the backend gets it.
    func forwarded(_ request: HTTP1Request, clientAddress: String = "10.0.0.9", scheme: String = "https") -> String {
        var request = request
        request.finishForwarded(clientAddress: clientAddress, scheme: scheme)
        return String(buffer: request.forwarded)
    }

    static let typicalGET =
        "GET /tool/a?b=c HTTP/1.1\r\n"
        + "Host: tool.example.org\r\n"
        + "User-Agent: curl/8.5.0\r\n"
        + "Referer: https://example.org/page\r\n"
        + "Connection: keep-alive\r\n"
        + "Accept: */*\r\n"
        + "X-Forwarded-For: 1.2.3.4\r\n"
        + "Keep-Alive: timeout=5\r\n"
        + "TE: trailers\r\n"
        + "X-Forwarded-Proto: http\r\n"
        + "X-Forwarded-Host: forged.example\r\n"
        + "X-Original-URI: /forged\r\n"
        + "Proxy-Connection: keep-alive\r\n"
        + "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"
        + "Trailer: X-Checksum\r\n"
        + "Cookie: a=b; c=d\r\n"
        + "\r\n"

    @Test func aTypicalGETIsParsedAndForwardedWithTheProxysFields() throws {
        let request = try request(Self.typicalGET)
        #expect(request.method == .get)
        #expect(request.targetString == "/tool/a?b=c")
        #expect(request.hostString == "tool.example.org")
        #expect(string(request, request.requestLine) == "GET /tool/a?b=c HTTP/1.1")
        #expect(string(request, request.referer) == "https://example.org/page")
        #expect(string(request, request.userAgent) == "curl/8.5.0")
        #expect(string(request, request.forwardedFor) == "1.2.3.4")
        #expect(request.contentLength == 0)
        #expect(request.isKeepAlive)
        #expect(request.isIdempotent)
        #expect(request.isReadClass)
        #expect(request.head.readableBytes == Self.typicalGET.utf8.count)
        #expect(String(buffer: request.head) == Self.typicalGET)
        #expect(
            forwarded(request)
                == "GET /tool/a?b=c HTTP/1.1\r\n"
                + "Host: tool.example.org\r\n"
                + "User-Agent: curl/8.5.0\r\n"
                + "Referer: https://example.org/page\r\n"
                + "Accept: */*\r\n"
                + "Cookie: a=b; c=d\r\n"
                + "X-Forwarded-For: 1.2.3.4, 10.0.0.9\r\n"
                + "X-Forwarded-Proto: https\r\n"
                + "X-Forwarded-Host: tool.example.org\r\n"
                + "X-Original-URI: /tool/a?b=c\r\n"
                + "\r\n")
    }

    @Test func withoutAPriorForwardedForOnlyTheClientTheHostAndTheTargetAreAdded() throws {
        let request = try request("GET / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n")
        #expect(request.forwardedFor == nil)
        #expect(
            forwarded(request, clientAddress: "::1", scheme: "http")
                == "GET / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n"
                + "X-Forwarded-For: ::1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\nX-Original-URI: /\r\n\r\n")
    }

    @Test func anEmptyHostIsValidAndForwarded() throws {
        // RFC 9110 §7.2: a client with no authority to name sends Host empty.
        let request = try request("GET / HTTP/1.1\r\nHost:\r\n\r\n")
        #expect(request.hostString == "")
    }

    @Test func hostsAreTakenWithTheirPortsAndIPLiterals() throws {
        for host in ["a.example:8443", "127.0.0.1:80", "[::1]:443", "[::1]", "x:", "tool.localhost."] {
            #expect(try request("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n").hostString == host, "\(host)")
        }
    }

    @Test func aHeadOfOnlyDroppedFieldsAndHostForwardsJustTheRequestLineAndHost() throws {
        let request = try request("GET /x HTTP/1.1\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\nHost: h\r\n\r\n")
        #expect(
            forwarded(request)
                == "GET /x HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: https\r\n"
                + "X-Forwarded-Host: h\r\nX-Original-URI: /x\r\n\r\n")
    }

    @Test func fieldNamesAndConnectionTokensAreCaseInsensitive() throws {
        let closing = try request("GET / HTTP/1.1\r\nHOST: a.example\r\nCONNECTION: Close\r\nx-forwarded-for: 9.9.9.9\r\n\r\n")
        #expect(!closing.isKeepAlive)
        #expect(closing.hostString == "a.example")
        #expect(string(closing, closing.forwardedFor) == "9.9.9.9")
        #expect(
            forwarded(closing)
                == "GET / HTTP/1.1\r\nHOST: a.example\r\n"
                + "X-Forwarded-For: 9.9.9.9, 10.0.0.9\r\nX-Forwarded-Proto: https\r\n"
                + "X-Forwarded-Host: a.example\r\nX-Original-URI: /\r\n\r\n")

        let keepAlive = try request("GET / HTTP/1.1\r\nHost: h\r\nconnection: Keep-Alive\r\n\r\n")
        #expect(keepAlive.isKeepAlive)
        let both = try request("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n")
        #expect(!both.isKeepAlive)
        let spaced = try request("GET / HTTP/1.1\r\nHost: h\r\nConnection:close\r\n\r\n")
        #expect(!spaced.isKeepAlive)
    }

    @Test func aPOSTWithAContentLengthIsNotIdempotentAndItsHeadEndsBeforeTheBody() throws {
        let head = "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"
        let request = try request(head + "hello")
        #expect(request.method == .other)
        #expect(request.contentLength == 5)
        #expect(!request.isIdempotent)
        #expect(!request.isReadClass)
        #expect(request.isKeepAlive)
        #expect(request.head.readableBytes == head.utf8.count)
        #expect(String(buffer: request.head) == head)
        #expect(
            forwarded(request)
                == "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                + "X-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: h\r\n"
                + "X-Original-URI: /submit\r\n\r\n")
    }

    @Test func methodsAreClassifiedExactlyAndCaseSensitively() throws {
        #expect(try request("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n").method == .head)
        #expect(try request("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n").isIdempotent)
        #expect(try request("get / HTTP/1.1\r\nHost: h\r\n\r\n").method == .other)
        #expect(try !request("get / HTTP/1.1\r\nHost: h\r\n\r\n").isIdempotent)
        #expect(try request("GETS / HTTP/1.1\r\nHost: h\r\n\r\n").method == .other)
        for idempotent in ["PUT", "DELETE", "OPTIONS", "TRACE"] {
            let parsed = try request("\(idempotent) / HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(parsed.method == .other)
            #expect(parsed.isIdempotent, "\(idempotent)")
            #expect(!parsed.isReadClass)
        }
        for unsafe in ["POST", "PATCH", "CONNECTX"] {
            #expect(try !request("\(unsafe) / HTTP/1.1\r\nHost: h\r\n\r\n").isIdempotent, "\(unsafe)")
        }
    }

    @Test func aRequestIsParsedFromTheReaderIndexAndPipelinedRequestsOneAfterTheOther() throws {
        let first = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
        let second = "GET /two HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n"
        var buffer = ByteBuffer(string: first + second)
        guard case .request(let one) = HTTP1Request.parse(buffer, maxHeadBytes: 8192, allocator: allocator) else {
            Issue.record("first request not parsed")
            return
        }
        #expect(one.targetString == "/one")
        #expect(one.isKeepAlive)
        buffer.moveReaderIndex(forwardBy: one.head.readableBytes)
        guard case .request(let two) = HTTP1Request.parse(buffer, maxHeadBytes: 8192, allocator: allocator) else {
            Issue.record("second request not parsed")
            return
        }
        #expect(two.targetString == "/two")
        #expect(two.hostString == "b")
        #expect(!two.isKeepAlive)
        #expect(String(buffer: two.head) == second)
    }

    @Test func fieldValuesAreTrimmedOfSurroundingWhitespace() throws {
        let request = try request("GET / HTTP/1.1\r\nHost: \t spaced.example \t\r\nContent-Length:   7  \r\n\r\n")
        #expect(request.hostString == "spaced.example")
        #expect(request.contentLength == 7)
    }

    /// A request the fast path must hand to the general path.
    struct GeneralCase: Sendable, CustomTestStringConvertible {
        var name: String
        var head: String
        var testDescription: String { name }
    }

    static let generalCases: [GeneralCase] = [
        GeneralCase(name: "HTTP/1.0", head: "GET / HTTP/1.0\r\nHost: a\r\n\r\n"),
        GeneralCase(name: "HTTP/2.0 request line", head: "GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
        GeneralCase(name: "lower-case version", head: "GET / http/1.1\r\nHost: a\r\n\r\n"),
        GeneralCase(name: "absolute-form target", head: "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n"),
        GeneralCase(name: "asterisk-form target", head: "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"),
        GeneralCase(name: "authority-form target", head: "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n"),
        GeneralCase(name: "two spaces after the method", head: "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
        GeneralCase(name: "empty method", head: " / HTTP/1.1\r\nHost: a\r\n\r\n"),
        GeneralCase(name: "non-token method", head: "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n"),
        GeneralCase(name: "space inside the target", head: "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"),
        GeneralCase(name: "Transfer-Encoding: chunked", head: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
        GeneralCase(
            name: "Content-Length and Transfer-Encoding",
            head: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
        GeneralCase(name: "two Content-Length fields", head: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
        GeneralCase(name: "two equal Content-Length fields", head: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n"),
        GeneralCase(name: "Content-Length: abc", head: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n"),
        GeneralCase(name: "Content-Length: +3", head: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n"),
        GeneralCase(name: "Content-Length: -1", head: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
        GeneralCase(name: "empty Content-Length", head: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n"),
        GeneralCase(name: "Content-Length of 19 digits", head: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000000000\r\n\r\n"),
        GeneralCase(
            name: "Upgrade: websocket after Connection: Upgrade",
            head: "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"),
        GeneralCase(
            name: "Upgrade: websocket before Connection: Upgrade",
            head: "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
        GeneralCase(name: "Upgrade without Connection", head: "GET / HTTP/1.1\r\nHost: a\r\nupgrade: h2c\r\n\r\n"),
        GeneralCase(name: "Expect: 100-continue", head: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"),
        GeneralCase(name: "Connection: close, foo", head: "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, foo\r\n\r\n"),
        GeneralCase(name: "Connection naming a field", head: "GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Secret\r\nX-Secret: 1\r\n\r\n"),
        // Whole heads whose request line has no version: answered, not waited on.
        GeneralCase(name: "no version, blank line", head: "GET / \r\n\r\n"),
        GeneralCase(name: "HTTP/0.9 and a blank line", head: "GET /\r\n\r\n"),
        GeneralCase(name: "a short version", head: "GET / HTTP/1\r\n\r\n"),
        GeneralCase(name: "two Host fields", head: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        // RFC 9112 §3.2: the general path answers these 400.
        GeneralCase(name: "no Host", head: "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"),
        GeneralCase(name: "two empty Host fields", head: "GET / HTTP/1.1\r\nHost:\r\nHost:\r\n\r\n"),
        GeneralCase(name: "Host with a space", head: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
        GeneralCase(name: "Host with userinfo", head: "GET / HTTP/1.1\r\nHost: user@a.example\r\n\r\n"),
        GeneralCase(name: "Host with a named port", head: "GET / HTTP/1.1\r\nHost: a:http\r\n\r\n"),
        GeneralCase(name: "Host with a path", head: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"),
        GeneralCase(name: "Host with an unclosed IP literal", head: "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"),
        GeneralCase(name: "two X-Forwarded-For fields", head: "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n\r\n"),
        GeneralCase(name: "bare LF after the request line", head: "GET / HTTP/1.1\nHost: a\r\n\r\n"),
        GeneralCase(name: "bare LF after a field", head: "GET / HTTP/1.1\r\nHost: a\n\r\n"),
        GeneralCase(name: "bare LF as the blank line", head: "GET / HTTP/1.1\r\nHost: a\r\n\n"),
        GeneralCase(name: "CR without LF in a field", head: "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n"),
        GeneralCase(name: "CR not followed by LF as the blank line", head: "GET / HTTP/1.1\r\nHost: a\r\n\rX"),
        GeneralCase(name: "obs-fold (space)", head: "GET / HTTP/1.1\r\nX-A: b\r\n c\r\nHost: a\r\n\r\n"),
        GeneralCase(name: "obs-fold (tab)", head: "GET / HTTP/1.1\r\nX-A: b\r\n\tc\r\nHost: a\r\n\r\n"),
        GeneralCase(name: "space before the colon", head: "GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
        GeneralCase(name: "empty field name", head: "GET / HTTP/1.1\r\nHost: a\r\n: a\r\n\r\n"),
        GeneralCase(name: "line without a colon", head: "GET / HTTP/1.1\r\nHost\r\n\r\n"),
        GeneralCase(name: "NUL in a value", head: "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\u{0}c\r\n\r\n"),
        GeneralCase(name: "DEL in a value", head: "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\u{7F}c\r\n\r\n"),
        GeneralCase(name: "control byte in a value", head: "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\u{1B}c\r\n\r\n"),
    ]

    @Test(arguments: generalCases)
    func requestsTheFastPathDoesNotTakeGoToTheGeneralPath(_ testCase: GeneralCase) {
        #expect(parse(testCase.head) == .general, "\(testCase.name)")
    }

    @Test func aHeadLongerThanTheLimitGoesToTheGeneralPathWhetherCompleteOrNot() throws {
        let head = "GET / HTTP/1.1\r\nHost: a\r\nX-Padding: " + String(repeating: "p", count: 200) + "\r\n\r\n"
        let length = head.utf8.count
        // Complete: exactly at the limit is taken, one byte over is not.
        #expect(try request(head, maxHeadBytes: length).head.readableBytes == length)
        #expect(parse(head, maxHeadBytes: length - 1) == .general)
        // Incomplete: waiting is right until more than the limit is buffered without an end.
        let unfinished = String(decoding: Array(head.utf8.prefix(length - 4)), as: UTF8.self)
        #expect(parse(String(decoding: Array(unfinished.utf8.prefix(100)), as: UTF8.self), maxHeadBytes: 100) == .incomplete)
        #expect(parse(String(decoding: Array(unfinished.utf8.prefix(101)), as: UTF8.self), maxHeadBytes: 100) == .general)
        #expect(parse(unfinished, maxHeadBytes: 100) == .general)
        // A complete head within the limit followed by body bytes past it is still taken.
        let small = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 300\r\n\r\n"
        let withBody = small + String(repeating: "b", count: 300)
        #expect(try request(withBody, maxHeadBytes: small.utf8.count).contentLength == 300)
    }

    @Test(arguments: [
        typicalGET,
        "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    ])
    func everyPrefixOfAValidHeadIsIncompleteAndTheWholeIsARequest(_ head: String) throws {
        let bytes = Array(head.utf8)
        for length in 0..<bytes.count {
            let parsed = HTTP1Request.parse(ByteBuffer(bytes: bytes[0..<length]), maxHeadBytes: 8192, allocator: allocator)
            #expect(parsed == .incomplete, "prefix of \(length) bytes: \(String(decoding: bytes[0..<length], as: UTF8.self).debugDescription)")
        }
        #expect(try request(head).head.readableBytes == bytes.count)
    }
}

@Suite struct HeadScannerTests {
    func fieldLine(_ text: String, from start: Int = 0) -> HeadScanner.Step {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { HeadScanner.fieldLine($0, from: start) }
    }

    func decimal(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { HeadScanner.decimal($0, 0, $0.count) }
    }

    @Test func aFieldLineGivesTheNameAndTheTrimmedValue() {
        #expect(
            fieldLine("Name: \t value x \t\r\nNext: 1\r\n")
                == .field(HeadScanner.FieldLine(start: 0, nameEnd: 4, valueStart: 8, valueEnd: 15, next: 19)))
        #expect(fieldLine("A:b\r\n") == .field(HeadScanner.FieldLine(start: 0, nameEnd: 1, valueStart: 2, valueEnd: 3, next: 5)))
        // An empty value: start and end meet where the whitespace ends.
        #expect(fieldLine("A:  \r\n") == .field(HeadScanner.FieldLine(start: 0, nameEnd: 1, valueStart: 4, valueEnd: 4, next: 6)))
        // Scanning from an offset.
        #expect(
            fieldLine("xx\r\nHost: h\r\n", from: 4)
                == .field(HeadScanner.FieldLine(start: 4, nameEnd: 8, valueStart: 10, valueEnd: 11, next: 13)))
        // Bytes of 0x80 and above are allowed in values (obs-text).
        #expect(fieldLine("A: é\r\n") == .field(HeadScanner.FieldLine(start: 0, nameEnd: 1, valueStart: 3, valueEnd: 5, next: 7)))
    }

    @Test func theBlankLineEndsTheHead() {
        #expect(fieldLine("\r\nbody") == .end(next: 2))
        #expect(fieldLine("A: 1\r\n\r\n", from: 6) == .end(next: 8))
        #expect(fieldLine("\r") == .incomplete)
        #expect(fieldLine("\rX") == .invalid)
        #expect(fieldLine("\n") == .invalid)
    }

    @Test func everyPrefixOfAFieldLineIsIncomplete() {
        let line = "Content-Type:  text/html \r\n"
        let bytes = Array(line.utf8)
        for length in 0..<bytes.count {
            let step = bytes[0..<length].withUnsafeBytes { HeadScanner.fieldLine($0, from: 0) }
            #expect(step == .incomplete, "prefix of \(length) bytes")
        }
        #expect(fieldLine(line) == .field(HeadScanner.FieldLine(start: 0, nameEnd: 12, valueStart: 15, valueEnd: 24, next: 27)))
    }

    @Test func malformedFieldLinesAreInvalid() {
        #expect(fieldLine("Name : v\r\n") == .invalid)
        #expect(fieldLine(" Name: v\r\n") == .invalid)
        #expect(fieldLine("\tName: v\r\n") == .invalid)
        #expect(fieldLine(": v\r\n") == .invalid)
        #expect(fieldLine("Na(me: v\r\n") == .invalid)
        #expect(fieldLine("Name: v\n") == .invalid)
        #expect(fieldLine("Name: v\rX\r\n") == .invalid)
        #expect(fieldLine("Name: a\u{0}b\r\n") == .invalid)
        #expect(fieldLine("Name: a\u{7F}b\r\n") == .invalid)
        #expect(fieldLine("Name: a\u{1F}b\r\n") == .invalid)
        // A tab inside a value is fine.
        #expect(fieldLine("Name: a\tb\r\n") == .field(HeadScanner.FieldLine(start: 0, nameEnd: 4, valueStart: 6, valueEnd: 9, next: 11)))
    }

    @Test func decimalsAreDigitsOnlyAndAtMostEighteenOfThem() {
        #expect(decimal("0") == 0)
        #expect(decimal("00012") == 12)
        #expect(decimal("1234567890") == 1_234_567_890)
        #expect(decimal("999999999999999999") == 999_999_999_999_999_999)
        #expect(decimal("1000000000000000000") == nil)
        #expect(decimal("") == nil)
        #expect(decimal("12a") == nil)
        #expect(decimal("+1") == nil)
        #expect(decimal("-1") == nil)
        #expect(decimal(" 1") == nil)
        #expect(decimal("1 ") == nil)
        #expect(decimal("/") == nil)
        #expect(decimal(":") == nil)
    }
}

@Suite struct HeaderFieldTests {
    func classify(_ name: String) -> HeaderField {
        let bytes = Array(name.utf8)
        return bytes.withUnsafeBytes { HeaderField.classify($0, 0, $0.count) }
    }

    @Test func namesAreClassifiedWhateverTheirCase() {
        let expected: [(String, HeaderField)] = [
            ("Host", .host), ("HOST", .host), ("host", .host),
            ("Content-Length", .contentLength), ("content-LENGTH", .contentLength),
            ("Transfer-Encoding", .transferEncoding),
            ("Connection", .connection), ("CONNECTION", .connection),
            ("Upgrade", .upgrade), ("Expect", .expect),
            ("TE", .hopByHop), ("te", .hopByHop), ("Trailer", .hopByHop), ("Keep-Alive", .hopByHop),
            ("Proxy-Connection", .hopByHop), ("Proxy-Authenticate", .hopByHop), ("Proxy-Authorization", .hopByHop),
            ("X-Forwarded-For", .xForwardedFor), ("x-forwarded-for", .xForwardedFor),
            ("X-Forwarded-Host", .proxySet), ("X-Forwarded-Proto", .proxySet), ("X-Original-URI", .proxySet),
            ("Referer", .referer), ("User-Agent", .userAgent), ("user-agent", .userAgent),
        ]
        for (name, field) in expected {
            #expect(classify(name) == field, "\(name)")
        }
    }

    @Test func otherNamesAreOtherEvenAtTheSameLength() {
        for name in [
            "Accept", "Cookie", "Hosts", "Hast", "Ho-t", "TF", "T-", "Content-Lengtx", "Content_Length",
            "X-Forwarded-Fox", "X-Forwarded-Port", "Trailers", "Referrer", "User_Agent", "Connexion", "Keep_Alive",
            "Upgrad3", "X", "", "Proxy-Authenticat3",
        ] {
            #expect(classify(name) == .other, "\(name)")
        }
    }

    @Test func equalsLowercasedFoldsOnlyLetters() {
        func equals(_ text: String, _ literal: StaticString) -> Bool {
            Array(text.utf8).withUnsafeBytes { $0.equalsLowercased(literal) }
        }
        #expect(equals("Keep-Alive", "keep-alive"))
        #expect(equals("KEEP-ALIVE", "keep-alive"))
        #expect(equals("close", "close"))
        #expect(!equals("closed", "close"))
        #expect(!equals("clos", "close"))
        #expect(!equals("keep_alive", "keep-alive"))
        #expect(!equals("keep.alive", "keep-alive"))
        #expect(!equals("Keep-Alivf", "keep-alive"))
    }

    @Test func forEachTokenSplitsOnCommasAndTrimsWhitespace() {
        func tokens(_ text: String) -> [String] {
            var found: [String] = []
            Array(text.utf8).withUnsafeBytes { bytes in
                bytes.forEachToken(0, bytes.count) { found.append(String(decoding: $0, as: UTF8.self)) }
            }
            return found
        }
        #expect(tokens("close") == ["close"])
        #expect(tokens(" keep-alive ,\tUpgrade\t, x ") == ["keep-alive", "Upgrade", "x"])
        #expect(tokens(",, a ,,b,") == ["a", "b"])
        #expect(tokens("") == [])
        #expect(tokens(" , ") == [])
        #expect(tokens("gzip, chunked") == ["gzip", "chunked"])
    }
}
