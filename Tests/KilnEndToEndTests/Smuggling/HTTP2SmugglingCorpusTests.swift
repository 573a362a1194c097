import Foundation
import KilnTesting
import Testing

/// The HTTP/2 corpus through the HTTPS listener to the recording backend: each malformed request
/// is refused (a stream reset, a GOAWAY or a 4xx), each well-formed one forwarded as exactly one
/// well-framed HTTP/1 request, and the proxy serves a normal request afterwards.
@Suite(.serialized) struct HTTP2SmugglingCorpusTests {
    struct Outcome: Decodable {
        var status: Int?
        var reset: Int?
        var goaway: Int?
        var body: String

        var refused: Bool { reset != nil || goaway != nil || (status.map { $0 >= 400 } ?? true) }
        var summary: String {
            [status.map { "\($0)" }, reset.map { "RST_STREAM(\($0))" }, goaway.map { "GOAWAY(\($0))" }].compactMap { $0 }.joined(separator: "+")
        }
    }

    @Test func everyMalformedStreamIsRefusedAndEveryOtherForwardedOnceWellFramed() async throws {
        let fixture = try await onOwnThread { try RecordingFixture() }
        defer { fixture.stop() }
        let python = try SMTPSink.python()
        let client = BackendProcess.fixtures + "/h2_client.py"
        let (server, backend, tool) = (fixture.server, fixture.backend, fixture.tool)
        _ = try await SmugglingCorpusTests.recorded(backend)
        let normal = HTTP2SmugglingCase.corpus(tool: tool)[0]
        var table: [String] = []
        for smuggling in HTTP2SmugglingCase.corpus(tool: tool) {
            let run = try await onOwnThread { try runCommand(python, [client, "\(server.httpsPort)", smuggling.argument], timeout: .seconds(20)) }
            let outcome = try JSONDecoder().decode(Outcome.self, from: Data(run.standardOutput.utf8))
            try await Task.sleep(for: .milliseconds(150))
            let reading = ForwardedRequestReading.read(try await SmugglingCorpusTests.recorded(backend))
            table.append("h2 \(smuggling.name): \(outcome.summary), backend got \(reading)")
            #expect(reading.isSafe, "\(smuggling.name): the backend got \(reading)")
            switch (smuggling.expected, reading) {
            case (.refused, .nothing), (.refused, .truncated):
                #expect(outcome.refused, "\(smuggling.name): \(outcome.summary) \(outcome.body.prefix(200))")
            case (.refused, _):
                Issue.record("\(smuggling.name): forwarded, must be refused: \(reading)")
            case (.refusedOrForwarded, .oneRequest):
                #expect(outcome.status == 200, "\(smuggling.name): \(outcome.summary) \(outcome.body.prefix(200))")
            case (.refusedOrForwarded, _):
                #expect(outcome.refused, "\(smuggling.name): \(outcome.summary)")
            }
            let after = try await onOwnThread { try runCommand(python, [client, "\(server.httpsPort)", normal.argument], timeout: .seconds(20)) }
            let afterOutcome = try JSONDecoder().decode(Outcome.self, from: Data(after.standardOutput.utf8))
            #expect(afterOutcome.status == 200, "\(smuggling.name): the next request got \(afterOutcome.summary)")
            _ = try await SmugglingCorpusTests.recorded(backend)
        }
        print("HTTP/2 smuggling corpus:\n" + table.joined(separator: "\n"))
        let serverLived = try await onOwnThread { fixture.server.isRunning }
        #expect(serverLived, "kiln serve died:\n\(fixture.server.log)")
    }
}
