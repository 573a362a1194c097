import KilnCore
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import KilnProxy

@Suite struct ProxyHandlerTests {
    /// The head the general path answers `head` with.
    func answer(_ head: HTTPRequestHead, shared: ProxyShared) throws -> HTTPResponseHead? {
        try generalPathAnswer(head, shared: shared).head
    }

    func head(_ method: HTTPMethod, _ uri: String, version: HTTPVersion = .http1_1) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: uri, headers: ["Host": "example.org", "User-Agent": "kiln-test"])
    }

    @Test func aToolNamedByPathIsRedirectedToItsOwnOrigin() throws {
        let shared = toolOriginShared(pathRouting: .redirect)
        let get = try #require(try answer(head(.GET, "/tool/x?y=1", version: .http1_0), shared: shared))
        #expect(get.status == .movedPermanently)
        #expect(get.headers["location"] == ["https://tool.example.org:8443/x?y=1"])
        let put = try #require(try answer(head(.PUT, "/tool?y=1"), shared: shared))
        #expect(put.status == .permanentRedirect)
        #expect(put.headers["location"] == ["https://tool.example.org:8443/?y=1"])
    }

    @Test func connectIsRefusedAndTheConnectionClosed() throws {
        // Whatever routes say: a backend's 2xx would make the connection a tunnel.
        let shared = toolOriginShared(pathRouting: .serve)
        let response = try #require(try answer(head(.CONNECT, "tool.example.org:443"), shared: shared))
        #expect(response.status == .badRequest)
        #expect(response.headers["connection"] == ["close"])
    }

    @Test func servingByPathSendsNoRedirect() throws {
        let shared = toolOriginShared(pathRouting: .serve)
        // No route matches: the tool is "not running", answered here rather than by its own host.
        shared.routes.apply(.replaced(tool: "tool", routes: [Route(tool: "tool", pattern: "^/only$", backend: HostPort(host: "127.0.0.1", port: 9))]))
        let response = try #require(try answer(head(.GET, "/tool/x"), shared: shared))
        #expect(response.status == .serviceUnavailable)
        #expect(response.headers["location"].isEmpty)
    }
}
