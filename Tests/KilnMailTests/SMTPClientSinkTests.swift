import Foundation
import KilnCore
import KilnMail
import KilnTesting
import Testing

/// Mail sent to a real SMTP server (aiosmtpd, see `SMTPSink`), checked byte for byte as it arrived.
/// One at a time: each starts a Python server, and the machine is small.
@Suite(.serialized, .timeLimit(.minutes(2))) struct SMTPClientSinkTests {
    func client(_ sink: SMTPSink) -> SMTPClient {
        // The sink is Python: on a machine running the whole suite it may take seconds to answer.
        SMTPClient(host: sink.host, port: sink.port, heloName: "kiln.test", timeout: .seconds(60))
    }

    /// The message as the sink got it must be exactly the rendering with the Date it carries.
    func expectExact(_ received: SMTPSink.Message, _ message: MailMessage, _ delivery: SMTPDelivery) throws {
        let text = received.text
        let dateLine = try #require(text.components(separatedBy: "\r\n").first { $0.hasPrefix("Date: ") })
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let date = try #require(formatter.date(from: String(dateLine.dropFirst("Date: ".count))))
        #expect(abs(date.timeIntervalSinceNow) < 60)
        let expected = message.rendered(date: date, messageID: delivery.messageID)
        #expect(Array(received.content) == Array(expected.utf8))
    }

    @Test func deliversTheMessageExactly() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        let body = """
            The job nightly ended with status 1.
            .a line starting with a dot
            ..two dots
            .
            bare CR\rand CRLF\r\nand LF
            unicode: café ✓
            last line without a line end
            """
        let message = try MailMessage(
            from: "kiln@tools.example", to: ["alice@example.org", "bob+jobs@example.org"],
            subject: "Job « nightly » failed", body: body, headers: [.init("Auto-Submitted", "auto-generated")])
        let delivery = try await client(sink).send(message)
        #expect(delivery.accepted == ["alice@example.org", "bob+jobs@example.org"] && delivery.refused.isEmpty)

        let received = try sink.messages()
        #expect(received.count == 1)
        let got = try #require(received.first)
        #expect(got.helo == "kiln.test")
        #expect(got.mailFrom == "kiln@tools.example")
        #expect(got.recipients == ["alice@example.org", "bob+jobs@example.org"])
        // aiosmtpd advertises 8BITMIME and the body is not ASCII.
        #expect(got.mailOptions == ["BODY=8BITMIME"])
        try expectExact(got, message, delivery)
        // Spelled out too, so that a rendering bug cannot hide behind comparing with itself.
        let expectedBody = "The job nightly ended with status 1.\r\n.a line starting with a dot\r\n..two dots\r\n.\r\n"
            + "bare CR\r\nand CRLF\r\nand LF\r\nunicode: café ✓\r\nlast line without a line end\r\n"
        #expect(got.text.hasSuffix("\r\n\r\n" + expectedBody))
        #expect(got.text.contains("\r\nSubject: =?UTF-8?B?\(Data("Job « nightly » failed".utf8).base64EncodedString())?=\r\n"))
        #expect(got.text.contains("\r\nMessage-ID: <\(delivery.messageID)>\r\n"))
        #expect(delivery.messageID.hasSuffix("@kiln.test"))
    }

    @Test func asciiMailIsNotDeclared8Bit() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        let message = try MailMessage(from: "kiln@tools.example", to: ["a@example.org"], subject: "plain", body: "ascii\n")
        let delivery = try await client(sink).send(message)
        let got = try #require(try sink.messages().first)
        #expect(got.mailOptions == [])
        try expectExact(got, message, delivery)
    }

    /// A large body in many reads and writes, with dots at the start of lines throughout and lines
    /// past the 998-byte limit.
    @Test func aLargeMessageArrivesWhole() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        var body = ""
        for index in 0..<20_000 { body += index % 3 == 0 ? ".line \(index)\n" : "line \(index) of the log\n" }
        body += String(repeating: "long", count: 1000) + "\n"
        let message = try MailMessage(from: "kiln@tools.example", to: ["a@example.org"], subject: "big log", body: body)
        let delivery = try await client(sink).send(message)
        let got = try #require(try sink.messages().first)
        #expect(got.content.count > 350_000)
        try expectExact(got, message, delivery)
    }

    @Test func fallsBackToHELOWhenEHLOIsRefused() async throws {
        let sink = try SMTPSink(acceptsEHLO: false)
        defer { sink.stop() }
        let message = try MailMessage(from: "kiln@tools.example", to: ["a@example.org"], subject: "s", body: "é\n")
        let delivery = try await client(sink).send(message)
        let got = try #require(try sink.messages().first)
        #expect(got.helo == "kiln.test")
        // No EHLO, no extensions: no BODY parameter the server never offered.
        #expect(got.mailOptions == [])
        try expectExact(got, message, delivery)
    }

    @Test func aRefusedRecipientIsReportedAndTheOthersGetTheMail() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        let message = try MailMessage(
            from: "kiln@tools.example", to: ["refused-gone@example.org", "alice@example.org"], subject: "s", body: "x\n")
        let delivery = try await client(sink).send(message)
        #expect(delivery.accepted == ["alice@example.org"])
        #expect(delivery.refused.map(\.address) == ["refused-gone@example.org"])
        #expect(delivery.refused.first?.reply == SMTPReply(code: 550, lines: ["5.1.1 no such user"]))
        let got = try #require(try sink.messages().first)
        #expect(got.recipients == ["alice@example.org"])
        // The headers still name every addressee; only the envelope lost one.
        #expect(got.text.contains("\r\nTo: refused-gone@example.org, alice@example.org\r\n"))
    }

    @Test func everyRecipientRefusedFails() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        let message = try MailMessage(
            from: "kiln@tools.example", to: ["refused-a@example.org", "refused-b@example.org"], subject: "s", body: "x\n")
        await #expect {
            try await client(sink).send(message)
        } throws: { error in
            let error = error as! KilnError
            return error.code == .mailRefused
                && error.message == "the SMTP server at 127.0.0.1:\(sink.port) refused every recipient: "
                    + "refused-a@example.org (550 5.1.1 no such user), refused-b@example.org (550 5.1.1 no such user)"
                && error.context["command"] == "RCPT TO:<refused-b@example.org>"
                && error.context["reply"] == "550 5.1.1 no such user"
                && error.context["host"] == "127.0.0.1" && error.context["port"] == String(sink.port)
        }
        #expect(try sink.messages().isEmpty)
    }

    @Test func aRefusedSenderFails() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        let message = try MailMessage(from: "refused@tools.example", to: ["a@example.org"], subject: "s", body: "x\n")
        await #expect {
            try await client(sink).send(message)
        } throws: { error in
            let error = error as! KilnError
            return error.code == .mailRefused
                && error.message.contains("answered MAIL FROM:<refused@tools.example> with 550 5.7.1 sender refused")
                && error.context["command"] == "MAIL FROM:<refused@tools.example>"
        }
        #expect(try sink.messages().isEmpty)
    }

    @Test func oneClientSendsMessagesOneAfterAnother() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        let client = client(sink)
        for index in 1...3 {
            let message = try MailMessage(from: "kiln@tools.example", to: ["a@example.org"], subject: "n\(index)", body: "\(index)\n")
            try await client.send(message)
        }
        #expect(try sink.messages().map { $0.text.components(separatedBy: "\r\n\r\n")[1] } == ["1\r\n", "2\r\n", "3\r\n"])
    }

    @Test func theSinkStopsAndRefusesConnectionsAfterwards() async throws {
        let sink = try SMTPSink()
        #expect(sink.isRunning)
        sink.stop()
        #expect(!sink.isRunning)
        let message = try MailMessage(from: "kiln@tools.example", to: ["a@example.org"], subject: "s", body: "x\n")
        await #expect(throws: KilnError.self) { try await client(sink).send(message) }
    }
}
