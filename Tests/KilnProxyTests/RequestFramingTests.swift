import KilnCore
import NIOHTTP1
import Testing

@testable import KilnProxy

@Suite struct RequestFramingTests {
    func head(_ headers: [(String, String)], version: HTTPVersion = .http1_1, host: [String] = ["x"]) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: .POST, uri: "/t/", headers: HTTPHeaders(host.map { ("Host", $0) } + headers))
    }

    @Test func transferEncodingInHTTP10IsFaultyFraming() {
        // RFC 9112 §6.1.
        #expect(RequestFraming.problem(head([("Transfer-Encoding", "chunked")], version: .http1_0)) == "Transfer-Encoding in HTTP/1.0")
        #expect(RequestFraming.problem(head([("Transfer-Encoding", "chunked")])) == nil)
        #expect(RequestFraming.problem(head([("Content-Length", "3")], version: .http1_0)) == nil)
    }

    @Test func anAbsoluteFormTargetBecomesOriginFormWithItsAuthorityAsHost() {
        // RFC 9112 §3.2.2: the target's host wins over the Host field.
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "HTTP://Tool.example:8080/a/b?c=/d", headers: ["Host": "other.example"])
        #expect(RequestFraming.toOriginForm(&head) == nil)
        #expect(head.uri == "/a/b?c=/d")
        #expect(head.headers["host"] == ["Tool.example:8080"])
        var bare = HTTPRequestHead(version: .http1_1, method: .GET, uri: "https://tool.example?q", headers: ["Host": "a", "host": "b"])
        #expect(RequestFraming.toOriginForm(&bare) == nil)
        #expect(bare.uri == "/?q")
        #expect(bare.headers["host"] == ["tool.example"])
        for invalid in ["http://user@tool.example/", "http:///x", "http://a b/", "https://tool.example:x/"] {
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: invalid, headers: ["Host": "a"])
            #expect(RequestFraming.toOriginForm(&head) != nil, "\(invalid)")
        }
        var origin = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/http://x/", headers: ["Host": "a"])
        #expect(RequestFraming.toOriginForm(&origin) == nil)
        #expect(origin.uri == "/http://x/" && origin.headers["host"] == ["a"])
    }

    @Test func anHTTP2PathIsOriginFormOrAnAsteriskForOptions() {
        // RFC 9113 §8.3.1.
        func problem(_ method: HTTPMethod, _ uri: String) -> String? {
            RequestFraming.http2TargetProblem(HTTPRequestHead(version: .http2, method: method, uri: uri, headers: [:]))
        }
        #expect(problem(.GET, "/a?b") == nil)
        #expect(problem(.OPTIONS, "*") == nil)
        for refused in ["http://evil/a", "https://x/", "", "a/b", "*"] {
            #expect(problem(.GET, refused) != nil, "\(refused)")
        }
    }

    @Test func anHTTP11RequestNeedsExactlyOneValidHost() {
        // RFC 9112 §3.2.
        #expect(RequestFraming.problem(head([], host: [])) == "no Host")
        #expect(RequestFraming.problem(head([], host: ["a", "b"])) == "more than one Host")
        #expect(RequestFraming.problem(head([], host: ["", ""])) == "more than one Host")
        for invalid in ["a b", "user@a.example", "a:http", "a/b", "[::1", "a\u{0}b", "a:1:2"] {
            #expect(RequestFraming.problem(head([], host: [invalid])) == "invalid Host", "\(invalid)")
        }
        for valid in ["", "a.example", "a.example:8443", " a.example ", "[::1]:443", "127.0.0.1", "x:"] {
            #expect(RequestFraming.problem(head([], host: [valid])) == nil, "\(valid)")
        }
        // HTTP/1.0 may leave it out; an HTTP/2 stream's comes from :authority, if it has one.
        #expect(RequestFraming.problem(head([], version: .http1_0, host: [])) == nil)
        #expect(RequestFraming.problem(head([], version: HTTPVersion(major: 2, minor: 0), host: [])) == nil)
    }

    @Test func ambiguousFramingIsRefused() {
        #expect(RequestFraming.problem(head([("Content-Length", "3"), ("Transfer-Encoding", "chunked")])) != nil)
        #expect(RequestFraming.problem(head([("Content-Length", "3"), ("Content-Length", "4")])) != nil)
        #expect(RequestFraming.problem(head([("Content-Length", "+3")])) != nil)
        #expect(RequestFraming.problem(head([("Transfer-Encoding", "chunked, gzip")])) != nil)
        #expect(RequestFraming.problem(head([("Content-Length", "3"), ("Content-Length", "3")])) == nil)
        #expect(RequestFraming.problem(head([("Transfer-Encoding", "gzip, chunked")])) == nil)
        #expect(RequestFraming.problem(head([])) == nil)
    }

    @Test func bodiesAreRecognised() {
        #expect(RequestFraming.hasBody(head([("Content-Length", "3")])))
        #expect(!RequestFraming.hasBody(head([("Content-Length", "0")])))
        #expect(RequestFraming.hasBody(head([("Transfer-Encoding", "chunked")])))
        #expect(!RequestFraming.hasBody(head([])))
    }

    @Test func redirectTargetsKeepTheHostAndUseTheHTTPSPort() {
        #expect(RedirectTarget.host("example.org", httpsPort: 443) == "example.org")
        #expect(RedirectTarget.host("example.org:8080", httpsPort: 8443) == "example.org:8443")
        #expect(RedirectTarget.host("[::1]:8080", httpsPort: 8443) == "[::1]:8443")
    }
}

@Suite struct ForwardedHeadersTests {
    @Test func hopByHopHeadersStopAndForwardingHeadersAreAdded() {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "tool.example.org")
        headers.add(name: "Connection", value: "keep-alive, X-Secret-Hop")
        headers.add(name: "X-Secret-Hop", value: "1")
        headers.add(name: "Keep-Alive", value: "timeout=5")
        headers.add(name: "TE", value: "trailers")
        headers.add(name: "X-Forwarded-For", value: "10.0.0.1")
        headers.add(name: "X-Forwarded-Proto", value: "forged")
        headers.add(name: "Accept", value: "*/*")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/tool/a?b=c", headers: headers)
        let forwarded = ForwardedHeaders.requestHead(head, clientAddress: "127.0.0.9", scheme: "https", hasBody: false, chunked: false)
        #expect(forwarded.uri == "/tool/a?b=c")
        #expect(forwarded.headers["X-Secret-Hop"].isEmpty)
        #expect(forwarded.headers["Keep-Alive"].isEmpty)
        #expect(forwarded.headers["TE"].isEmpty)
        #expect(forwarded.headers["Connection"].isEmpty)
        #expect(forwarded.headers["X-Forwarded-For"] == ["10.0.0.1, 127.0.0.9"])
        #expect(forwarded.headers["X-Forwarded-Proto"] == ["https"])
        #expect(forwarded.headers["X-Forwarded-Host"] == ["tool.example.org"])
        #expect(forwarded.headers["X-Original-URI"] == ["/tool/a?b=c"])
        #expect(forwarded.headers["Accept"] == ["*/*"])
    }

    @Test func chunkedBodiesAreReframed() {
        var headers = HTTPHeaders()
        headers.add(name: "Transfer-Encoding", value: "gzip, chunked")
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/t/", headers: headers)
        let forwarded = ForwardedHeaders.requestHead(head, clientAddress: "127.0.0.1", scheme: "http", hasBody: true, chunked: true)
        #expect(forwarded.headers["Transfer-Encoding"] == ["chunked"])
    }

    @Test func websocketUpgradesPassThrough() {
        var headers = HTTPHeaders()
        headers.add(name: "Connection", value: "Upgrade")
        headers.add(name: "Upgrade", value: "websocket")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/t/ws", headers: headers)
        #expect(ForwardedHeaders.isWebSocketUpgrade(head))
        let forwarded = ForwardedHeaders.requestHead(head, clientAddress: "127.0.0.1", scheme: "http", hasBody: false, chunked: false)
        #expect(forwarded.headers["Upgrade"] == ["websocket"])
        #expect(forwarded.headers["Connection"] == ["Upgrade"])
    }

    @Test func responseHopByHopHeadersStop() {
        var headers = HTTPHeaders()
        headers.add(name: "Transfer-Encoding", value: "chunked")
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Content-Type", value: "text/plain")
        let response = ForwardedHeaders.responseHead(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers), keepAlive: true)
        #expect(response.headers["Transfer-Encoding"].isEmpty)
        #expect(response.headers["Connection"].isEmpty)
        #expect(response.headers["Content-Type"] == ["text/plain"])
    }
}

@Suite struct TimeoutPolicyTests {
    @Test func theDefaultsAreValid() throws {
        try TimeoutPolicy().validate()
    }

    @Test func anOuterTimeoutShorterThanTheInnerOneIsRefused() {
        let policy = TimeoutPolicy(read: .init(firstByte: .seconds(60), outer: .seconds(30), maxBodyBytes: 1024))
        #expect(throws: KilnError.self) { try policy.validate() }
        do {
            try policy.validate()
        } catch {
            #expect(error.message.contains("outer timeout"))
            #expect(error.context["class"] == "read")
        }
    }

    @Test func classesAreChosenByMethod() {
        let policy = TimeoutPolicy()
        #expect(policy.forMethod(.GET).firstByte == .seconds(60))
        #expect(policy.forMethod(.HEAD).firstByte == .seconds(60))
        #expect(policy.forMethod(.POST).firstByte == .seconds(200))
    }
}

@Suite struct RouteTableReferenceTests {
    @Test func pushedChangesAreSeenByLookups() {
        let reference = RouteTableReference()
        let backend = HostPort(host: "127.0.0.1", port: 8000)
        #expect(reference.resolve(host: nil, path: "/t/", domain: "localhost") == .toolNotRunning(tool: "t"))
        reference.apply(.replaced(tool: "t", routes: [Route(tool: "t", pattern: ".*", backend: backend)]))
        #expect(reference.resolve(host: nil, path: "/t/", domain: "localhost") == .backend(BackendGroup(backend), tool: "t"))
        reference.apply(.snapshot([]))
        #expect(reference.resolve(host: nil, path: "/t/", domain: "localhost") == .toolNotRunning(tool: "t"))
    }
}
