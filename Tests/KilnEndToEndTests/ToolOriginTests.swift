import Foundation
import KilnTesting
import Testing

/// One web origin per tool: with a real domain, `/TOOL/...` is sent to `TOOL.DOMAIN`, unless the
/// operator serves paths on purpose.
@Suite(.serialized) struct ToolOriginTests {
    /// A server for `domain` with one tool (Unix users as the server's default) routed to a backend.
    struct Platform {
        let fixture: ProxyFixture
        var server: KilnServerProcess { fixture.server }
        var backend: BackendProcess { fixture.backend }
        var tool: String { fixture.tool }

        init(_ arguments: [String]) throws {
            fixture = try ProxyFixture(serverArguments: ["--allow-http"] + arguments)
        }

        func stop() {
            _ = try? kiln("tools", "delete", tool, "--data", server.dataDirectory)
            fixture.stop()
        }

        /// The status line and Location of a raw request (`version` 1.0 takes the general path).
        func answer(_ method: String, _ target: String, host: String, version: String = "1.1", body: String = "")
            throws -> (status: Int?, location: String?)
        {
            var request = "\(method) \(target) HTTP/\(version)\r\nHost: \(host)\r\nUser-Agent: kiln-test\r\nConnection: close\r\n"
            if !body.isEmpty { request += "Content-Length: \(body.utf8.count)\r\n" }
            let reply = try rawExchange(port: server.httpPort, Array((request + "\r\n" + body).utf8)).response
            let lines = reply.split(separator: "\r\n")
            let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
            let location = lines.first { $0.lowercased().hasPrefix("location: ") }.map { String($0.dropFirst("location: ".count)) }
            return (status, location)
        }
    }

    @Test func aRealDomainRedirectsPathsToTheToolsOwnHost() throws {
        // TLS ends in front of this proxy (no HTTPS listener): the tool's origin is on 443.
        let platform = try Platform(["--domain", "kiln.test", "--https", "off"])
        defer { platform.stop() }
        let tool = platform.tool
        let get = try platform.answer("GET", "/\(tool)/x?y=1", host: "kiln.test")
        #expect(get.status == 301)
        #expect(get.location == "https://\(tool).kiln.test/x?y=1")
        // HTTP/1.0 is answered by the general path, the same way.
        let old = try platform.answer("GET", "/\(tool)?y=1", host: "kiln.test", version: "1.0")
        #expect(old.status == 301)
        #expect(old.location == "https://\(tool).kiln.test/?y=1")
        let post = try platform.answer("POST", "/\(tool)/form", host: "kiln.test", body: "a=b")
        #expect(post.status == 308)
        #expect(post.location == "https://\(tool).kiln.test/form")

        // On its own host the tool is served; a name with no routes is not redirected anywhere.
        let own = try curl(["-H", "Host: \(tool).kiln.test", platform.server.httpURL + "/x?y=1"])
        #expect(own.status == 200)
        #expect(own.body.contains(#""path": "/x?y=1""#))
        #expect(try platform.answer("GET", "/edgenosuchtool/", host: "kiln.test").status == 503)
        #expect(platform.server.log.contains("path routing: /TOOL/... is redirected"))
    }

    @Test func theRedirectNamesTheProxysHTTPSPort() throws {
        let platform = try Platform(["--domain", "kiln.test"])
        defer { platform.stop() }
        let get = try platform.answer("GET", "/\(platform.tool)/x?y=1", host: "kiln.test")
        #expect(get.status == 301)
        #expect(get.location == "https://\(platform.tool).kiln.test:\(platform.server.httpsPort)/x?y=1")
        // Over HTTPS too, on the fast path and on HTTP/2.
        for version in ["--http1.1", "--http2"] {
            let secure = try curl([version, "-H", "Host: kiln.test", platform.server.httpsURL + "/\(platform.tool)/x?y=1"])
            #expect(secure.status == 301, "\(version)")
            #expect(secure.headers.lowercased().contains("location: https://\(platform.tool).kiln.test:\(platform.server.httpsPort)/x?y=1"))
        }
    }

    @Test func pathRoutingServeKeepsPathsOnTheDomain() throws {
        let platform = try Platform(["--domain", "kiln.test", "--path-routing", "serve"])
        defer { platform.stop() }
        let served = try curl(["-H", "Host: kiln.test", platform.server.httpURL + "/\(platform.tool)/x?y=1"])
        #expect(served.status == 200)
        #expect(served.body.contains(#""path": "/\#(platform.tool)/x?y=1""#))
        #expect(platform.server.log.contains("every tool shares one web origin"))
    }
}
