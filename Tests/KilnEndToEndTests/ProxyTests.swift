import Foundation
import KilnTesting
import Testing

/// The front proxy through the real binary, real curl and a real backend process.
@Suite(.serialized) struct ProxyTests {
    @Test func pathAndHostRoutingPassThePathAndForwardingHeaders() throws {
        let fixture = try ProxyFixture()
        defer { fixture.stop() }
        let byPath = try curl([fixture.server.httpURL + "/\(fixture.tool)/some/page?x=1"])
        #expect(byPath.status == 200)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(byPath.body.utf8)) as? [String: Any])
        #expect(json["path"] as? String == "/\(fixture.tool)/some/page?x=1")
        let headers = try #require(json["headers"] as? [String: String])
        #expect(headers["x-forwarded-for"] == "127.0.0.1")
        #expect(headers["x-forwarded-proto"] == "http")
        #expect(headers["x-original-uri"] == "/\(fixture.tool)/some/page?x=1")
        #expect(headers["x-forwarded-host"] == "127.0.0.1:\(fixture.server.httpPort)")

        let byHost = try curl(["-H", "Host: \(fixture.tool).localhost:\(fixture.server.httpPort)", fixture.server.httpURL + "/other"])
        #expect(byHost.status == 200)
        #expect(byHost.body.contains(#""path": "/other""#))
        let upperCase = try curl(["-H", "Host: \(fixture.tool.uppercased()).LOCALHOST", fixture.server.httpURL + "/"])
        #expect(upperCase.status == 200)
    }

    @Test func patternsAreTriedInOrderAndTheAdminToolIsTheFallback() throws {
        let fixture = try ProxyFixture()
        defer { fixture.stop() }
        let second = try BackendProcess(name: "b2", tool: fixture.tool)
        defer { second.stop() }
        let data = fixture.server.dataDirectory
        // A more specific pattern registered after `.*` never wins: first match wins.
        #expect(try kiln("routes", "remove", "--data", data, "--tool", fixture.tool, ".*").status == 0)
        #expect(try kiln("routes", "add", "--data", data, "--tool", fixture.tool, "^/api", second.address).status == 0)
        #expect(try kiln("routes", "add", "--data", data, "--tool", fixture.tool, ".*", fixture.backend.address).status == 0)
        #expect(try curl([fixture.server.httpURL + "/\(fixture.tool)/api/x"]).body.contains(#""backend": "b2""#))
        #expect(try curl([fixture.server.httpURL + "/\(fixture.tool)/web"]).body.contains(#""backend": "b1""#))
        let listed = try kiln("routes", "list", "--data", data, "--tool", fixture.tool)
        let lines = listed.standardOutput.split(separator: "\n")
        #expect(lines.count == 3 && lines[1].contains("^/api") && lines[2].contains(".*"), "\(listed)")

        // Nothing there: 503 naming the tool when the path named one; the root is the front page.
        let missing = try curl([fixture.server.httpURL + "/nosuchtool/"])
        #expect(missing.status == 503)
        #expect(missing.body.contains("nosuchtool"))
        #expect(try curl([fixture.server.httpURL + "/"]).body.contains("<h1>Tools on localhost</h1>"))

        // The admin tool's routes catch the rest, matched against the whole path.
        #expect(try kiln("tools", "create", "admin", "--data", data).status == 0)
        #expect(try kiln("routes", "add", "--data", data, "--tool", "admin", ".*", second.address).status == 0)
        let landing = try curl([fixture.server.httpURL + "/nosuchtool/page"])
        #expect(landing.status == 200)
        #expect(landing.body.contains(#""path": "/nosuchtool/page""#))
        // All but the root: that stays the front page.
        let root = try curl([fixture.server.httpURL + "/"])
        #expect(root.status == 200)
        #expect(root.body.contains("<h1>Tools on localhost</h1>"))
    }

    /// A webservice's replicas: one pattern, three backends registered through the CLI. The
    /// load reaches each; a stopped one costs no request.
    @Test func replicasShareALoadThatSurvivesOneStopping() throws {
        let fixture = try ProxyFixture()
        defer { fixture.stop() }
        let second = try BackendProcess(name: "b2", tool: fixture.tool)
        defer { second.stop() }
        let third = try BackendProcess(name: "b3", tool: fixture.tool)
        defer { third.stop() }
        let data = fixture.server.dataDirectory
        for replica in [second, third] {
            #expect(try kiln("routes", "add", "--data", data, "--tool", fixture.tool, ".*", replica.address).status == 0)
        }
        let listed = try kiln("routes", "list", "--data", data, "--tool", fixture.tool)
        #expect(listed.standardOutput.split(separator: "\n").count == 4, "one line per backend: \(listed)")

        let url = fixture.server.httpURL + "/\(fixture.tool)/page"
        func backendsAnswering(_ count: Int) throws -> [String] {
            try (0..<count).map { _ in
                let response = try curl([url])
                #expect(response.status == 200, "\(response)")
                let json = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
                return json?["backend"] as? String ?? "-"
            }
        }
        #expect(Set(try backendsAnswering(30)) == ["b1", "b2", "b3"])
        second.stop()
        #expect(Set(try backendsAnswering(30)) == ["b1", "b3"])

        #expect(try kiln("routes", "add", "--replace", "--data", data, "--tool", fixture.tool, ".*", third.address).status == 0)
        #expect(Set(try backendsAnswering(5)) == ["b3"])
    }

    @Test func plainHTTPIsRedirectedToHTTPSWhichSpeaksHTTP2() throws {
        // A two-label domain: OpenSSL clients refuse a wildcard right under a single label
        // (`*.localhost`), so the certificate's wildcard is checked on `kiln.test`.
        // Paths are served on purpose here: the test is about TLS, not origins.
        let fixture = try ProxyFixture(serverArguments: ["--domain", "kiln.test", "--path-routing", "serve"])
        defer { fixture.stop() }
        let get = try curl([fixture.server.httpURL + "/\(fixture.tool)/a?b=c"])
        #expect(get.status == 301)
        #expect(get.headers.lowercased().contains("location: https://127.0.0.1:\(fixture.server.httpsPort)/\(fixture.tool)/a?b=c"))
        let post = try curl(["-X", "POST", "--data", "x", fixture.server.httpURL + "/\(fixture.tool)/a"])
        #expect(post.status == 308)

        let tls = try curl(["--http1.1", fixture.server.httpsURL + "/\(fixture.tool)/echo"])
        #expect(tls.status == 200)
        #expect(tls.httpVersion == "1.1")
        #expect(tls.body.contains(#""x-forwarded-proto": "https""#))
        let h2 = try curl(["--http2", fixture.server.httpsURL + "/\(fixture.tool)/echo"])
        #expect(h2.status == 200)
        #expect(h2.httpVersion == "2")
        let h2Upload = try curl(["--http2", "-X", "POST", "--data-binary", "hello", fixture.server.httpsURL + "/\(fixture.tool)/upload"])
        #expect(h2Upload.body.contains(#""length": 5"#))
        // The self-signed certificate names the domain and its subdomains.
        let verified = try runCommand(
            "/usr/bin/curl",
            ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", fixture.server.dataDirectory + "/proxy-cert.pem",
             "--resolve", "\(fixture.tool).kiln.test:\(fixture.server.httpsPort):127.0.0.1",
             "https://\(fixture.tool).kiln.test:\(fixture.server.httpsPort)/"])
        #expect(verified.standardOutput == "200", "\(verified)")
    }

    @Test func websocketsPassThrough() throws {
        let fixture = try ProxyFixture()
        defer { fixture.stop() }
        let result = try runCommand(
            "/usr/bin/python3", [BackendProcess.fixtures + "/ws_client.py", String(fixture.server.httpPort), "/\(fixture.tool)/ws"])
        #expect(result.standardOutput == "OK\n", "\(result)")
    }

    @Test func aGibibyteStreamsBothWaysInBoundedMemory() throws {
        // Past the default body cap (128 MiB) on purpose: the operator raised it.
        let fixture = try ProxyFixture(serverArguments: ["--allow-http", "--max-body-write", "\(2 << 30)"])
        defer { fixture.stop() }
        let gibibyte = 1 << 30
        let before = fixture.proxyRSS
        let sampler = RSSSampler { fixture.proxyRSS }
        let download = try runCommand(
            "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", fixture.server.httpURL + "/\(fixture.tool)/big?n=\(gibibyte)"],
            timeout: .seconds(300))
        #expect(download.standardOutput == "200 \(gibibyte)")
        let upload = try runCommand(
            "/bin/sh", ["-c", "head -c \(gibibyte) /dev/zero | curl -s -T - -X POST \(fixture.server.httpURL)/\(fixture.tool)/upload"],
            timeout: .seconds(300))
        #expect(upload.standardOutput.contains(#""length": \#(gibibyte)"#), "\(upload)")
        #expect(upload.standardOutput.contains("49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14"))
        let peak = sampler.stop()
        #expect(peak - before < 128 << 20, "RSS grew by \((peak - before) >> 20) MiB while streaming")
    }

    @Test func limitsAnswerWithTheirStatusCodes() throws {
        let fixture = try ProxyFixture(serverArguments: [
            "--allow-http", "--max-body-write", "100000", "--max-header-bytes", "4096",
            "--header-timeout", "1", "--first-byte-timeout-read", "1", "--outer-timeout-read", "7",
        ])
        defer { fixture.stop() }
        let url = fixture.server.httpURL + "/\(fixture.tool)"
        let files = try makeTemporaryDirectory(prefix: "kl")
        try String(repeating: "x", count: 200_000).write(toFile: files + "/body", atomically: true, encoding: .utf8)
        try ("X-Big: " + String(repeating: "a", count: 5000)).write(toFile: files + "/header5k", atomically: true, encoding: .utf8)
        try ("X-Big: " + String(repeating: "a", count: 100_000)).write(toFile: files + "/header100k", atomically: true, encoding: .utf8)
        #expect(try curl(["-X", "POST", "--data-binary", "@" + files + "/body", url + "/upload"]).status == 413)
        #expect(try curl(["-X", "POST", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + files + "/body", url + "/upload"]).status == 413)
        #expect(try curl(["-H", "@" + files + "/header5k", url + "/echo"]).status == 431)
        #expect(try curl(["-H", "@" + files + "/header100k", url + "/echo"]).status == 431)
        #expect(try curl(["-X", "POST", "--data-binary", "small", url + "/upload"]).status == 200)
        let slow = try curl([url + "/slow?s=3"])
        #expect(slow.status == 504)
        #expect(try curl([url + "/hangup"]).status == 502)
        let partial = try rawExchange(port: fixture.server.httpPort, Array("GET /\(fixture.tool)/echo HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\n".utf8))
        #expect(partial.response.hasPrefix("HTTP/1.1 408"), "\(partial)")
        #expect(partial.peerClosed)
        // A backend that is gone: 502.
        fixture.backend.stop()
        #expect(try curl([url + "/echo"]).status == 502)
    }

    /// A backend silent in the middle of its response is cut off after the stall timeout, on
    /// HTTP/1 (the fast path) and HTTP/2 (the general path); one that sends a little at a time,
    /// for longer than the timeout in all, is not.
    @Test func aBackendStalledMidBodyIsCutOffButASteadyOneIsNot() throws {
        let fixture = try ProxyFixture(serverArguments: ["--allow-http", "--backend-stall-timeout", "1"])
        defer { fixture.stop() }
        for (base, version) in [(fixture.server.httpURL, "--http1.1"), (fixture.server.httpsURL, "--http2")] {
            let url = base + "/\(fixture.tool)"
            let began = Date()
            let stalled = try curl([version, url + "/stall?s=8"])
            let waited = Date().timeIntervalSince(began)
            #expect(stalled.status == 200 && stalled.body == "12345", "\(version): \(stalled)")
            #expect(waited < 6, "\(version): cut off after \(waited) s, not when the backend went on")
            let steady = try curl([version, url + "/drip?n=5&every=0.5"])
            #expect(steady.status == 200 && steady.body == "ddddd", "\(version): \(steady)")
        }
    }

    @Test func contradictoryTimeoutsAreRefusedAtStart() throws {
        let result = try runCommand(
            KilnBinary.path,
            ["serve", "--data", try makeTemporaryDirectory(prefix: "kt") + "/d", "--api", "127.0.0.1:\(freeLoopbackPort())",
             "--http", "127.0.0.1:\(freeLoopbackPort())", "--https", "off", "--first-byte-timeout-read", "60",
             "--outer-timeout-read", "30"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("outer timeout"), "\(result)")
    }

    @Test func aProxyAloneServesMetricsOnlyWithAToken() throws {
        let result = try runCommand(
            KilnBinary.path,
            ["proxy", "--routes", "redis://127.0.0.1:1", "--http", "127.0.0.1:\(freeLoopbackPort())", "--https", "off",
             "--proxy-metrics", "127.0.0.1:\(freeLoopbackPort())"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("--proxy-metrics-token-file"), "\(result)")
    }

    @Test func ambiguousFramingIsRefusedAndTheProxyKeepsServing() throws {
        let fixture = try ProxyFixture()
        defer { fixture.stop() }
        let target = "/\(fixture.tool)/upload"
        let cases = [
            "POST \(target) HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST \(target) HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
            "POST \(target) HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            "\u{01}\u{02} not http\r\n\r\n",
        ]
        for request in cases {
            let result = try rawExchange(port: fixture.server.httpPort, Array(request.utf8))
            #expect(result.response.hasPrefix("HTTP/1.1 400"), "\(request.debugDescription) → \(result.response)")
            #expect(result.peerClosed, "the connection stays open after \(request.debugDescription)")
        }
        #expect(try curl([fixture.server.httpURL + "/\(fixture.tool)/echo"]).status == 200)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let fixture = try ProxyFixture()
        defer { fixture.stop() }
        let tool = fixture.tool
        let request =
            "GET /\(tool)/first HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\n\r\nGET /nobody/ HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\n\r\n"
            + "GET /\(tool)/third HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\nConnection: close\r\n\r\n"
        let result = try rawExchange(port: fixture.server.httpPort, Array(request.utf8))
        let first = try #require(result.response.range(of: "/\(tool)/first"))
        let second = try #require(result.response.range(of: "503 Service Unavailable"))
        let third = try #require(result.response.range(of: "/\(tool)/third"))
        #expect(first.lowerBound < second.lowerBound && second.lowerBound < third.lowerBound)
        #expect(result.peerClosed)
    }

    /// Requests pipelined faster than they are answered are held up to a limit (then no more is
    /// read); a flood that one read brings beyond four times that closes the connection. On the
    /// general path (an HTTP/1.0 request moves the connection there), the proxy still serving.
    @Test func aFloodOfPipelinedHeadsClosesTheConnection() throws {
        let metricsPort = freeLoopbackPort()
        let fixture = try ProxyFixture(serverArguments: ["--allow-http", "--rate-limit", "0", "--proxy-metrics", "127.0.0.1:\(metricsPort)"])
        defer { fixture.stop() }
        let tool = fixture.tool
        let first = "GET /\(tool)/slow?s=1 HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nUser-Agent: kiln-test\r\n\r\n"
        let flood = String(repeating: "GET /\(tool)/x HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\n\r\n", count: 20_000)
        let result = try rawExchange(port: fixture.server.httpPort, Array((first + flood).utf8), timeout: 10)
        #expect(result.peerClosed, "the flood's connection was closed")
        #expect(result.response.components(separatedBy: "HTTP/1.1 200").count < 1000, "\(result.response.prefix(300))")
        // A client that pipelines a few is answered in full (pipelinedRequestsAreAnsweredInOrder).
        #expect(try curl([fixture.server.httpURL + "/\(tool)/echo"]).status == 200)
        let token = try String(contentsOfFile: fixture.server.dataDirectory + "/metrics.token", encoding: .utf8)
        let metrics = try curl(["-H", "Authorization: Bearer \(token.trimmingCharacters(in: .whitespacesAndNewlines))", "http://127.0.0.1:\(metricsPort)/metrics"])
        #expect(metrics.body.contains("kiln_proxy_refused_total{reason=\"pipelining\"} 1"), "\(metrics.body)")
    }

    @Test func everyFramingOfABackendsResponseReachesTheClientWhole() throws {
        let fixture = try ProxyFixture()
        defer { fixture.stop() }
        let tool = fixture.tool
        // One connection: a chunked body, a body delimited by the backend's close (re-chunked for
        // the client, whose connection stays open), an informational 103, a HEAD, then an
        // HTTP/1.0 request, which the general path answers on the same connection.
        let request =
            "GET /\(tool)/big?n=70000 HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\n\r\n"
            + "GET /\(tool)/untilclose HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\n\r\n"
            + "GET /\(tool)/early HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\n\r\n"
            + "HEAD /\(tool)/head HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\n\r\n"
            + "GET /\(tool)/last HTTP/1.0\r\nHost: x\r\nUser-Agent: kiln-test\r\n\r\n"
        let result = try rawExchange(port: fixture.server.httpPort, Array(request.utf8))
        var reader = ResponseStream(Array(result.response.utf8))
        let chunked = try reader.next()
        #expect(chunked.head.hasPrefix("HTTP/1.1 200") && chunked.head.contains("Transfer-Encoding: chunked"))
        #expect(chunked.body.count == 70000 && chunked.body.allSatisfy { $0 == UInt8(ascii: "x") })
        let untilClose = try reader.next()
        #expect(untilClose.head.hasPrefix("HTTP/1.1 200") && untilClose.head.contains("Transfer-Encoding: chunked"))
        #expect(!untilClose.head.contains("Connection: close"))
        #expect(untilClose.body.count == 100_000 && untilClose.body.allSatisfy { $0 == UInt8(ascii: "y") })
        let early = try reader.next(bodiless: true)
        #expect(early.head.hasPrefix("HTTP/1.1 103") && early.head.contains("Link: </style.css>"))
        let afterEarly = try reader.next()
        #expect(afterEarly.head.hasPrefix("HTTP/1.1 200") && String(decoding: afterEarly.body, as: UTF8.self).contains("/\(tool)/early"))
        let head = try reader.next(bodiless: true)
        #expect(head.head.hasPrefix("HTTP/1.1 200") && head.head.contains("Content-Length: "))
        let last = try reader.next()
        #expect(last.head.hasPrefix("HTTP/1.1 200") && last.head.contains("Connection: close"))
        #expect(String(decoding: last.body, as: UTF8.self).contains("/\(tool)/last"))
        #expect(reader.isAtEnd)
        #expect(result.peerClosed)
    }

    @Test func accessLogIsWrittenInCombinedFormat() throws {
        let fixture = try ProxyFixture()
        defer { fixture.stop() }
        _ = try curl(["-A", "probe/1.0", "-e", "http://ref.example/", fixture.server.httpURL + "/\(fixture.tool)/logged"])
        let path = fixture.server.dataDirectory + "/logs/access.log"
        let deadline = Date().addingTimeInterval(5)
        var contents = ""
        while Date() < deadline {
            contents = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if contents.contains("/logged") { break }
            usleep(100_000)
        }
        let line = try #require(contents.split(separator: "\n").first { $0.contains("/logged") })
        #expect(line.hasPrefix("127.0.0.1 - - ["))
        #expect(line.contains(#""GET /\#(fixture.tool)/logged HTTP/1.1" 200 "#))
        #expect(line.hasSuffix(#""http://ref.example/" "probe/1.0""#))
    }
}

/// Samples a value (RSS) every 50 ms on a background thread and keeps the peak.
final class RSSSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var peak = 0
    private var running = true
    private let thread: Thread

    init(_ sample: @escaping @Sendable () -> Int) {
        let box = Box()
        thread = Thread {
            while box.sampler?.isRunning ?? true {
                box.sampler?.record(sample())
                usleep(50_000)
            }
        }
        box.sampler = self
        thread.start()
    }

    final class Box: @unchecked Sendable { weak var sampler: RSSSampler? }

    var isRunning: Bool { lock.withLock { running } }
    func record(_ value: Int) { lock.withLock { peak = max(peak, value) } }

    func stop() -> Int {
        lock.withLock { running = false }
        return lock.withLock { peak }
    }
}

/// Reads HTTP/1.1 responses one after another from the bytes of a connection, by their framing.
struct ResponseStream {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func next(bodiless: Bool = false) throws -> (head: String, body: [UInt8]) {
        let head = try line(until: [13, 10, 13, 10])
        if bodiless { return (head, []) }
        let fields = head.split(separator: "\r\n").map { $0.lowercased() }
        if let length = fields.first(where: { $0.hasPrefix("content-length:") }).flatMap({ Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) }) {
            return (head, try take(length))
        }
        guard fields.contains("transfer-encoding: chunked") else { return (head, try take(bytes.count - offset)) }
        var body: [UInt8] = []
        while true {
            let size = try #require(Int(try line(until: [13, 10]), radix: 16))
            body += try take(size)
            _ = try take(2)
            if size == 0 { return (head, body) }
        }
    }

    private mutating func line(until terminator: [UInt8]) throws -> String {
        var end = offset
        while end + terminator.count <= bytes.count {
            if Array(bytes[end..<end + terminator.count]) == terminator {
                let text = String(decoding: bytes[offset..<end], as: UTF8.self)
                offset = end + terminator.count
                return text
            }
            end += 1
        }
        throw TestFailure("no \(terminator) after offset \(offset)")
    }

    private mutating func take(_ count: Int) throws -> [UInt8] {
        guard offset + count <= bytes.count else { throw TestFailure("\(count) bytes wanted at \(offset) of \(bytes.count)") }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
}
