import KilnCore
import NIOCore
import NIOEmbedded
import Testing

@testable import KilnProxy

@Suite struct FastPathHandlerTests {
    /// What the fast path answers to `request`, as bytes, on a connection of its own.
    func answer(_ request: String, shared: ProxyShared) throws -> String {
        try fastPathAnswer(request, shared: shared)
    }

    @Test func aToolNamedByPathIsRedirectedToItsOwnOrigin() throws {
        let shared = toolOriginShared(pathRouting: .redirect)
        let get = try answer("GET /tool/x?y=1 HTTP/1.1\r\nHost: example.org\r\nUser-Agent: kiln-test\r\n\r\n", shared: shared)
        #expect(get.hasPrefix("HTTP/1.1 301"), "\(get)")
        #expect(get.lowercased().contains("location: https://tool.example.org:8443/x?y=1\r\n"), "\(get)")
        let post = try answer("POST /tool HTTP/1.1\r\nHost: example.org\r\nUser-Agent: kiln-test\r\nContent-Length: 1\r\n\r\nx", shared: shared)
        #expect(post.hasPrefix("HTTP/1.1 308"), "\(post)")
        #expect(post.lowercased().contains("location: https://tool.example.org:8443/\r\n"), "\(post)")
        // With TLS ended in front of the proxy, the origin is on the default port.
        let fronted = try answer(
            "GET /tool/ HTTP/1.1\r\nHost: example.org\r\nUser-Agent: kiln-test\r\n\r\n", shared: toolOriginShared(pathRouting: .redirect, https: nil))
        #expect(fronted.lowercased().contains("location: https://tool.example.org/\r\n"), "\(fronted)")
    }

    @Test func whatNamesNoToolWithRoutesIsNotRedirected() throws {
        let shared = toolOriginShared(pathRouting: .redirect)
        #expect(try answer("GET /other/x HTTP/1.1\r\nHost: example.org\r\nUser-Agent: kiln-test\r\n\r\n", shared: shared).hasPrefix("HTTP/1.1 503"))
        #expect(try answer("GET / HTTP/1.1\r\nHost: example.org\r\nUser-Agent: kiln-test\r\n\r\n", shared: shared).hasPrefix("HTTP/1.1 404"))
    }
}
