import Foundation
import KilnTesting
import Testing

/// The smuggling corpus over real sockets, through both listeners (plain HTTP and HTTPS speaking
/// HTTP/1.1), to a backend that records the bytes it gets: each case is refused or forwarded as
/// exactly one well-framed request, and the proxy serves a normal request afterwards.
@Suite(.serialized) struct SmugglingCorpusTests {
    @Test func everyCaseIsRefusedOrForwardedOnceWellFramedOnBothListeners() async throws {
        let fixture = try await onOwnThread { try RecordingFixture() }
        do {
            try await Self.runCorpus(fixture)
        } catch {
            _ = try? await onOwnThread { fixture.stop() }
            throw error
        }
        let serverLived = try await onOwnThread { fixture.server.isRunning }
        #expect(serverLived, "kiln serve died:\n\(fixture.server.log)")
        try await onOwnThread { fixture.stop() }
    }

    static func runCorpus(_ fixture: RecordingFixture) async throws {
        let (server, backend, tool) = (fixture.server, fixture.backend, fixture.tool)
        _ = try await Self.recorded(backend)
        let normal = Array("GET /\(tool)/normal HTTP/1.1\r\nHost: x\r\nUser-Agent: corpus\r\n\r\n".utf8)
        var table: [String] = []
        for (listener, port, tls) in [("http", server.httpPort, false), ("https", server.httpsPort, true)] {
            for smuggling in SmugglingCase.corpus(tool: tool) {
                let exchange = try await RawHTTPExchange.run(port: port, smuggling.bytes, tls: tls, timeout: .seconds(3))
                // What the proxy forwards after answering (a body it had started to pass on)
                // reaches the backend a moment later.
                try await Task.sleep(for: .milliseconds(150))
                let reading = ForwardedRequestReading.read(try await Self.recorded(backend))
                let label = "\(listener) \(smuggling.name)"
                let answer = exchange.status.map { "\($0)" } ?? (exchange.peerClosed ? "closed" : "no answer")
                table.append("\(label): \(answer)\(exchange.peerClosed && exchange.status != nil ? "+close" : ""), backend got \(reading)")

                #expect(reading.isSafe, "\(label): the backend got \(reading)")
                switch (smuggling.expected, reading) {
                case (.refused, .nothing), (.refused, .truncated):
                    #expect(exchange.status.map { $0 >= 400 } ?? exchange.peerClosed, "\(label): \(exchange.text.prefix(200))")
                case (.refused, _):
                    Issue.record("\(label): forwarded, must be refused: \(reading)")
                case (.refusedOrForwarded, .oneRequest):
                    #expect(exchange.status == 200, "\(label): \(exchange.text.prefix(200))")
                case (.refusedOrForwarded, _):
                    #expect(exchange.status.map { $0 >= 400 } ?? exchange.peerClosed, "\(label): \(exchange.text.prefix(200))")
                }

                let after = try await RawHTTPExchange.run(port: port, normal, tls: tls)
                #expect(after.status == 200, "\(label): the next request got \(after.text.prefix(200))")
                _ = try await Self.recorded(backend)
            }
        }
        print("smuggling corpus:\n" + table.joined(separator: "\n"))
    }

    /// What the backend's connections brought since the last call, and whether each was closed.
    static func recorded(_ backend: BackendProcess) async throws -> [(data: [UInt8], closed: Bool)] {
        let exchange = try await RawHTTPExchange.run(
            port: backend.port, Array("GET /__recorded HTTP/1.1\r\nHost: x\r\n\r\n".utf8), tls: false)
        guard let start = exchange.text.range(of: "\r\n\r\n")?.upperBound,
            let list = try JSONSerialization.jsonObject(with: Data(exchange.text[start...].utf8)) as? [[String: Any]]
        else { throw TestFailure("the recording backend answered \(exchange.text)") }
        return list.map { entry in
            let data = (entry["data"] as? String).flatMap { Data(base64Encoded: $0) } ?? Data()
            return (Array(data), entry["closed"] as? Bool ?? false)
        }
    }
}

/// A server with one tool routed to the recording backend, which runs as the tool's user (a
/// tool's route reaches only a listener of its own).
struct RecordingFixture: Sendable {
    let server: KilnServerProcess
    let backend: BackendProcess
    let tool: String

    init() throws {
        // A short header timeout: an unfinished head (HTTP/0.9's lone line) is answered 408 soon.
        server = try KilnServerProcess(extraArguments: ["--allow-http", "--header-timeout", "1"])
        tool = uniqueToolName("sm")
        let created = try kiln("tools", "create", tool, "--data", server.dataDirectory)
        guard created.status == 0 else { throw TestFailure("\(created)") }
        backend = try BackendProcess(name: "recorder", tool: tool, script: "recording_backend.py")
        let routed = try kiln("routes", "add", "--data", server.dataDirectory, "--tool", tool, ".*", backend.address)
        guard routed.status == 0 else { throw TestFailure("\(routed)") }
    }

    func stop() {
        backend.stop()
        server.terminate()
    }
}
