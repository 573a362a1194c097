import Foundation
import Testing

@testable import KilnMail

/// DATA's transparency: a line starting with '.' is sent with another, and the data ends with `.` CRLF.
@Suite struct SMTPDataTests {
    func payload(_ text: String) -> String { String(decoding: SMTPData.payload(Array(text.utf8)), as: UTF8.self) }

    @Test func linesStartingWithADotGetAnother() {
        #expect(payload("a\r\n.b\r\n..c\r\n.\r\nd.e\r\n") == "a\r\n..b\r\n...c\r\n..\r\nd.e\r\n.\r\n")
        #expect(payload(".first line\r\n") == "..first line\r\n.\r\n")
        #expect(payload("x\r\n.") == "x\r\n..\r\n.\r\n")
    }

    @Test func dataNotEndingInCRLFIsEndedBeforeTheTerminator() {
        #expect(payload("no line end") == "no line end\r\n.\r\n")
        #expect(payload("") == ".\r\n")
    }

    /// Only CRLF starts a line: a lone LF or CR does not (rendering never leaves one anyway).
    @Test func onlyCRLFStartsALine() {
        #expect(payload("a\n.b\r.c\r\n") == "a\n.b\r.c\r\n.\r\n")
    }

    @Test func aRenderedBodyOfDotsSurvives() throws {
        let message = try MailMessage(from: "a@b", to: ["c@d"], subject: "s", body: ".\n..\n.end\nmid.dle\n")
        let rendered = message.rendered(date: Date(timeIntervalSince1970: 0), messageID: "x@y")
        let sent = payload(rendered)
        #expect(sent.hasSuffix("\r\n\r\n..\r\n...\r\n..end\r\nmid.dle\r\n.\r\n"))
        // Undoing the transparency gives the message back.
        let lines = sent.components(separatedBy: "\r\n").dropLast(2)
        let unstuffed = lines.map { $0.hasPrefix(".") ? String($0.dropFirst()) : $0 }.joined(separator: "\r\n") + "\r\n"
        #expect(unstuffed == rendered)
    }
}
