import Foundation
import KilnTesting
import Testing

/// What one client may ask of the proxy, through the real binary: a User-Agent on every request,
/// a rate per address (429 past it), a cap on its connections, a TLS handshake in time.
@Suite(.serialized) struct ClientLimitTests {
    /// Runs a short python script with the given arguments; its standard output.
    func python(_ script: String, _ arguments: [String]) throws -> String {
        let result = try runCommand("/usr/bin/python3", ["-c", script] + arguments, timeout: .seconds(30))
        #expect(result.status == 0, "\(result)")
        return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aRequestWithoutAUserAgentIsRefused() throws {
        let fixture = try ProxyFixture()
        defer { fixture.stop() }
        let target = "/\(fixture.tool)/page"
        let without = try rawExchange(port: fixture.server.httpPort, Array("GET \(target) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        #expect(without.response.hasPrefix("HTTP/1.1 403"), "\(without.response)")
        #expect(try curl([fixture.server.httpURL + target]).status == 200, "curl sends one")
    }

    @Test func anAddressPastItsRateGets429ThenItsTurnAgain() throws {
        let fixture = try ProxyFixture(serverArguments: ["--allow-http", "--rate-limit", "2", "--rate-burst", "5"])
        defer { fixture.stop() }
        let url = fixture.server.httpURL + "/\(fixture.tool)/page"
        let statuses = try python(
            """
            import sys, urllib.request, urllib.error
            out = []
            for _ in range(12):
                try:
                    out.append(str(urllib.request.urlopen(sys.argv[1]).status))
                except urllib.error.HTTPError as e:
                    out.append(f"{e.code}:{e.headers.get('Retry-After')}")
            print(" ".join(out))
            """, [url]
        ).split(separator: " ")
        #expect(statuses.prefix(5).allSatisfy { $0 == "200" }, "the burst: \(statuses)")
        #expect(statuses.contains("429:1"), "then 429 with Retry-After: \(statuses)")
        usleep(1_600_000)
        #expect(try curl([url]).status == 200, "a token back after half a second at 2/s")
    }

    @Test func anAddressHoldsAtMostItsConnections() throws {
        let fixture = try ProxyFixture(serverArguments: ["--allow-http", "--max-connections-per-address", "3"])
        defer { fixture.stop() }
        let answers = try python(
            """
            import socket, sys
            port = int(sys.argv[1])
            held = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
            extra = socket.create_connection(("127.0.0.1", port))
            extra.settimeout(5)
            try:
                refused = extra.recv(1) == b""
            except (ConnectionResetError, socket.timeout) as error:
                refused = not isinstance(error, socket.timeout)
            for s in held: s.close()
            import time; time.sleep(0.5)
            again = socket.create_connection(("127.0.0.1", port))
            again.sendall(b"GET / HTTP/1.1\\r\\nHost: x\\r\\nUser-Agent: t\\r\\nConnection: close\\r\\n\\r\\n")
            again.settimeout(5)
            print("refused" if refused else "held", again.recv(12).decode())
            """, [String(fixture.server.httpPort)])
        // Served again once the others closed (`/` is the front page).
        #expect(answers == "refused HTTP/1.1 200", "\(answers)")
    }

    @Test func aTLSConnectionMustFinishItsHandshakeInTime() throws {
        let fixture = try ProxyFixture(serverArguments: ["--allow-http", "--tls-handshake-timeout", "1"])
        defer { fixture.stop() }
        let waited = try python(
            """
            import socket, sys, time
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            s.settimeout(10)
            start = time.time()
            try:
                closed = s.recv(1) == b""
            except ConnectionResetError:
                closed = True
            print(f"{'closed' if closed else 'open'} {time.time() - start:.1f}")
            """, [String(fixture.server.httpsPort)]
        ).split(separator: " ")
        #expect(waited.first == "closed")
        #expect((Double(waited.last ?? "") ?? 99) < 5, "closed after about a second: \(waited)")
        #expect(try curl(["-k", fixture.server.httpsURL + "/\(fixture.tool)/page"]).status == 200, "a real client still gets in")
    }
}
