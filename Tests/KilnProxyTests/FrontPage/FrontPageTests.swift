import KilnCore
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import KilnProxy

/// A source that counts its calls, and answers after `delay` (or fails).
final class CountingSource: FrontPageSource {
    let calls = Atomic<Int>(0)
    let delay: Duration
    let fails: Bool

    init(delay: Duration = .zero, fails: Bool = false) {
        self.delay = delay
        self.fails = fails
    }

    func page() async throws -> String {
        let call = calls.add(1, ordering: .relaxed).newValue
        if delay > .zero { try await Task.sleep(for: delay) }
        if fails { throw KilnError(.unavailable, "the control plane is away") }
        return "<p>page \(call)</p>"
    }
}

@Suite struct FrontPageTests {
    @Test func thePageIsKeptForItsLifetimeAndAskedForOnceByEveryoneWaiting() async throws {
        let loops = MultiThreadedEventLoopGroup.singleton
        let source = CountingSource(delay: .milliseconds(100))
        let frontPage = FrontPage(source: source, lifetime: .milliseconds(500))
        let futures = (0..<50).map { _ in frontPage.response(on: loops.next()) }
        for future in futures {
            let response = try await future.get()
            #expect(response.status == .ok)
            #expect(response.body == "<p>page 1</p>")
            #expect(response.contentSecurityPolicy?.contains("default-src 'none'") == true)
        }
        #expect(try await frontPage.response(on: loops.next()).get().body == "<p>page 1</p>")
        #expect(source.calls.load(ordering: .relaxed) == 1)
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await frontPage.response(on: loops.next()).get().body == "<p>page 2</p>")
        #expect(source.calls.load(ordering: .relaxed) == 2)
    }

    @Test func aSourceThatFailsGivesAShort503KeptAsLong() async throws {
        let loops = MultiThreadedEventLoopGroup.singleton
        let source = CountingSource(fails: true)
        let frontPage = FrontPage(source: source)
        let response = try await frontPage.response(on: loops.next()).get()
        #expect(response.status == .serviceUnavailable)
        #expect(response.retryAfter == 5)
        #expect(response.body.contains("Tools are still served"))
        _ = try await frontPage.response(on: loops.next()).get()
        #expect(source.calls.load(ordering: .relaxed) == 1)
    }

    // MARK: Through the handlers

    func request(_ method: String, _ target: String = "/") -> String {
        "\(method) \(target) HTTP/1.1\r\nHost: example.org\r\nUser-Agent: kiln-test\r\n\r\n"
    }

    /// A proxy whose fallback tool routes everything, with a front page already loaded (the
    /// embedded loop must not be completed from another thread).
    func sharedWithFrontPage(_ source: CountingSource) async -> ProxyShared {
        let frontPage = FrontPage(source: source, lifetime: .seconds(60))
        await frontPage.load()
        let shared = toolOriginShared(pathRouting: .serve, frontPage: frontPage)
        shared.routes.apply(.replaced(tool: "admin", routes: [Route(tool: "admin", pattern: ".*", backend: HostPort(host: "127.0.0.1", port: 9))]))
        return shared
    }

    @Test func theFastPathServesTheFrontPageForGetAndHeadOnly() async throws {
        let shared = await sharedWithFrontPage(CountingSource())
        let get = try fastPathAnswer(request("GET"), shared: shared)
        #expect(get.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(get)")
        #expect(get.contains("Content-Type: text/html; charset=utf-8\r\n"))
        #expect(get.contains("Content-Security-Policy: default-src 'none';"))
        #expect(get.hasSuffix("\r\n\r\n<p>page 1</p>"), "\(get)")
        #expect(try fastPathAnswer(request("GET", "/?sort=name"), shared: shared).hasSuffix("<p>page 1</p>"))
        let head = try fastPathAnswer(request("HEAD"), shared: shared)
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(head.contains("Content-Length: 13\r\n"))
        #expect(head.hasSuffix("\r\n\r\n"))
        #expect(try fastPathAnswer(request("POST"), shared: shared).hasPrefix("HTTP/1.1 404"))
    }

    @Test func theGeneralPathServesTheFrontPageToo() async throws {
        let shared = await sharedWithFrontPage(CountingSource())
        let headers: HTTPHeaders = ["Host": "example.org", "User-Agent": "kiln-test"]
        let (get, body) = try generalPathAnswer(HTTPRequestHead(version: .http1_0, method: .GET, uri: "/", headers: headers), shared: shared)
        #expect(get?.status == .ok)
        #expect(get?.headers["content-security-policy"].first?.hasPrefix("default-src 'none'") == true)
        #expect(body == "<p>page 1</p>")
        let (head, headBody) = try generalPathAnswer(HTTPRequestHead(version: .http1_0, method: .HEAD, uri: "/", headers: headers), shared: shared)
        #expect(head?.status == .ok)
        #expect(headBody.isEmpty)
        let (delete, _) = try generalPathAnswer(HTTPRequestHead(version: .http1_1, method: .DELETE, uri: "/", headers: headers), shared: shared)
        #expect(delete?.status == .notFound)
    }

    @Test func aControlPlaneAwayGivesA503ForTheFrontPageOnly() async throws {
        let shared = await sharedWithFrontPage(CountingSource(fails: true))
        let answer = try fastPathAnswer(request("GET"), shared: shared)
        #expect(answer.hasPrefix("HTTP/1.1 503"), "\(answer)")
        #expect(answer.contains("Retry-After: 5\r\n"))
        #expect(answer.contains("List of tools unavailable"))
    }
}
