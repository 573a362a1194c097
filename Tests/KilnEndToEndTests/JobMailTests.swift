import Foundation
import KilnTesting
import Testing

/// `--emails` through the real binary and a real SMTP server (aiosmtpd): the maintainers get the
/// job's name, its exit status and the last lines of its output; `onfailure` counts a timeout
/// and a kill as failures, and says nothing of a success.
@Suite(.serialized) struct JobMailTests {
    @Test func failuresAreMailedToTheMaintainersWithTheirOutput() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        let server = try KilnServerProcess(extraArguments: [
            "--smtp", "\(sink.host):\(sink.port)", "--mail-domain", "example.org", "--mail-from", "kiln@example.org",
        ])
        defer { _ = server.terminate() }
        let tool = uniqueToolName("m")
        let created = try kiln("tools", "create", tool, "--maintainer", "ada", "--maintainer", "bob@wiki.example", "--data", server.dataDirectory)
        try #require(created.status == 0, "\(created)")
        func jobs(_ arguments: String...) throws -> CommandResult {
            try kiln(arguments: ["jobs"] + arguments + ["--tool", tool, "--data", server.dataDirectory])
        }

        let fine = try jobs("run", "fine", "--command", "echo all good", "--image", "bookworm", "--emails", "onfailure", "--wait")
        #expect(fine.status == 0, "\(fine)")
        let broken = try jobs(
            "run", "broken", "--command", "echo working on it; echo the API said no >&2; exit 3", "--image", "bookworm",
            "--emails", "onfailure", "--wait")
        #expect(broken.status == 3, "\(broken)")
        let slow = try jobs("run", "slow", "--command", "sleep 60", "--image", "bookworm", "--emails", "onfailure", "--timeout", "1", "--wait")
        #expect(slow.status == 124, "\(slow)")

        var messages: [SMTPSink.Message] = []
        for _ in 0..<200 where messages.count < 2 {
            messages = try sink.messages()
            try await Task.sleep(for: .milliseconds(25))
        }
        try await Task.sleep(for: .milliseconds(300))
        messages = try sink.messages()
        // Two failures, no mail for the success.
        #expect(messages.count == 2, "\(messages.map(\.text))")
        let brokenMail = try #require(messages.first { $0.text.contains("X-Kiln-Job: broken") })
        #expect(Set(brokenMail.recipients) == ["ada@example.org", "bob@wiki.example"])
        #expect(brokenMail.mailFrom == "kiln@example.org")
        #expect(brokenMail.text.contains("Subject: [kiln] \(tool)/broken: run"))
        #expect(brokenMail.text.contains("exited with code 3"))
        #expect(brokenMail.text.contains("working on it"))
        #expect(brokenMail.text.contains("the API said no"))
        let slowMail = try #require(messages.first { $0.text.contains("X-Kiln-Job: slow") })
        #expect(slowMail.text.contains("timed out"))
        _ = try jobs("flush")
    }
}
