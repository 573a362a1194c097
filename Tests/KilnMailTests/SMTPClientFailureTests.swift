import KilnCore
import KilnMail
import KilnTesting
import Testing

/// What a caller sees when the server is missing, silent or misbehaving: every failure a KilnError
/// naming the server, the step and the reply, within the timeout.
@Suite(.timeLimit(.minutes(1))) struct SMTPClientFailureTests {
    static let message = try! MailMessage(
        from: "kiln@tools.example", to: ["maint@example.org"], subject: "Job ended", body: "done\n")

    func client(port: Int, timeout: Duration = .seconds(5)) -> SMTPClient {
        SMTPClient(host: "127.0.0.1", port: port, heloName: "kiln.test", timeout: timeout)
    }

    func sendFailure(_ client: SMTPClient) async -> KilnError? {
        do {
            try await client.send(Self.message)
            return nil
        } catch {
            return error
        }
    }

    @Test func connectionRefused() async throws {
        let port = freeLoopbackPort()
        let error = try #require(await sendFailure(client(port: port)))
        #expect(error.code == .unavailable)
        #expect(error.message.contains("cannot connect to the SMTP server at 127.0.0.1:\(port)"), "\(error.message)")
        #expect(error.message.contains("connection refused"), "\(error.message)")
        #expect(error.context["host"] == "127.0.0.1" && error.context["port"] == String(port))
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        let server = try await ScriptedSMTPServer(greeting: "")
        defer { Task { await server.close() } }
        let start = ContinuousClock.now
        let error = try #require(await sendFailure(client(port: server.port, timeout: .milliseconds(400))))
        let elapsed = ContinuousClock.now - start
        // Far below a hang, with room for a machine busy running the whole suite.
        #expect(elapsed >= .milliseconds(400) && elapsed < .seconds(10), "took \(elapsed)")
        #expect(error.code == .unavailable)
        #expect(error.message == "the SMTP server at 127.0.0.1:\(server.port) did not answer the greeting within 0.4 seconds")
        #expect(error.context["command"] == "the greeting" && error.context["port"] == String(server.port))
    }

    @Test func aServerThatFallsSilentAfterTheGreetingTimesOut() async throws {
        let server = try await ScriptedSMTPServer(greeting: "220 hello\r\n")
        defer { Task { await server.close() } }
        let start = ContinuousClock.now
        let error = try #require(await sendFailure(client(port: server.port, timeout: .milliseconds(400))))
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(error.message.contains("did not answer EHLO kiln.test within"), "\(error.message)")
        #expect(error.context["command"] == "EHLO kiln.test")
        #expect(server.commands == ["EHLO kiln.test"])
    }

    @Test func aRefusingGreetingIsPermanent() async throws {
        let server = try await ScriptedSMTPServer(greeting: "554 5.3.2 no service for you\r\n")
        defer { Task { await server.close() } }
        let error = try #require(await sendFailure(client(port: server.port)))
        #expect(error.code == .mailRefused)
        #expect(error.message == "the SMTP server at 127.0.0.1:\(server.port) greeted with 554 5.3.2 no service for you")
        #expect(error.context["reply"] == "554 5.3.2 no service for you" && error.context["command"] == "the greeting")
    }

    /// Temporary failures (4xx) are `.unavailable`: worth sending again later.
    /// Temporary failures (4xx) are `.unavailable`: worth sending again later.
    @Test func aTemporaryRefusalIsUnavailable() async throws {
        let server = try await ScriptedSMTPServer(greeting: "220 ok\r\n") { line in
            line.hasPrefix("EHLO") ? .reply("250-ok\r\n250 8BITMIME\r\n")
                : line.hasPrefix("MAIL") ? .reply("451 4.3.0 try later\r\n") : .silence
        }
        defer { Task { await server.close() } }
        let error = try #require(await sendFailure(client(port: server.port)))
        #expect(error.code == .unavailable)
        #expect(error.message == "the SMTP server at 127.0.0.1:\(server.port) answered MAIL FROM:<kiln@tools.example> with 451 4.3.0 try later")
        #expect(error.context["command"] == "MAIL FROM:<kiln@tools.example>" && error.context["reply"] == "451 4.3.0 try later")
        #expect(server.commands.prefix(2) == ["EHLO kiln.test", "MAIL FROM:<kiln@tools.example>"])
    }

    @Test(arguments: [
        ("220 ok\r\n", "hello there\r\n", "must start with a code"),
        ("220-first line\r\n421 closing\r\n", "", "code 421 inside a reply with code 220"),
    ])
    func aMalformedReplyIsAnError(_ greeting: String, _ ehloReply: String, _ why: String) async throws {
        let server = try await ScriptedSMTPServer(greeting: greeting) { _ in .reply(ehloReply) }
        defer { Task { await server.close() } }
        let error = try #require(await sendFailure(client(port: server.port)))
        #expect(error.code == .unavailable)
        #expect(error.message.contains("malformed reply") && error.message.contains(why), "\(error.message)")
        #expect(error.context["host"] == "127.0.0.1" && error.context["command"] != nil)
    }

    @Test(arguments: [("250-partial\r\n", "in the middle of a reply"), ("", "without a reply")])
    func aServerClosingTheConnectionIsAnError(_ partial: String, _ how: String) async throws {
        let server = try await ScriptedSMTPServer(greeting: "220 ok\r\n") { _ in .replyAndClose(partial) }
        defer { Task { await server.close() } }
        let error = try #require(await sendFailure(client(port: server.port)))
        #expect(error.code == .unavailable)
        #expect(error.message == "the SMTP server at 127.0.0.1:\(server.port) closed the connection \(how) to EHLO kiln.test")
    }

    @Test func aReplyThatNeverEndsTimesOut() async throws {
        let server = try await ScriptedSMTPServer(greeting: "220 ok\r\n") { line in
            line.hasPrefix("EHLO") ? .reply("250-ok\r\n250 HELP\r\n")
                : line.hasPrefix("MAIL") ? .reply("250-still going\r\n") : .silence
        }
        defer { Task { await server.close() } }
        let error = try #require(await sendFailure(client(port: server.port, timeout: .milliseconds(300))))
        #expect(error.message.contains("did not answer MAIL FROM:<kiln@tools.example> within"), "\(error.message)")
    }

    @Test func anInvalidEHLONameIsRefusedBeforeConnecting() async throws {
        let error = try #require(
            await sendFailure(SMTPClient(host: "127.0.0.1", port: freeLoopbackPort(), heloName: "kiln\r\nRSET")))
        #expect(error.code == .invalidAddress)
        #expect(error.message.contains("invalid EHLO name"))
    }
}
