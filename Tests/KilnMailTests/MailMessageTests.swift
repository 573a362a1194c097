import Foundation
import KilnCore
import Testing

@testable import KilnMail

@Suite struct MailMessageTests {
    static let date = Date(timeIntervalSince1970: 1_764_032_589)  // Tue, 25 Nov 2025 01:03:09 UTC

    func message(
        subject: String = "Job nightly ended", body: String = "ok\n", to: [String] = ["maint@example.org"],
        headers: [MailMessage.Header] = []
    ) throws -> MailMessage {
        try MailMessage(from: "kiln@tools.example", to: to, subject: subject, body: body, headers: headers)
    }

    @Test func rendersEveryHeaderThenTheBody() throws {
        let text = try message(
            to: ["a@example.org", "b.c+d@example.org"], headers: [.init("Auto-Submitted", "auto-generated")]
        ).rendered(date: Self.date, messageID: "abc.1@kiln.example")
        #expect(
            text == """
                Date: Tue, 25 Nov 2025 01:03:09 +0000\r
                From: kiln@tools.example\r
                To: a@example.org, b.c+d@example.org\r
                Subject: Job nightly ended\r
                Message-ID: <abc.1@kiln.example>\r
                MIME-Version: 1.0\r
                Content-Type: text/plain; charset=utf-8\r
                Content-Transfer-Encoding: 8bit\r
                Auto-Submitted: auto-generated\r
                \r
                ok\r

                """)
    }

    /// Against Foundation's own RFC 5322 formatting, over dates from 1900 to 2200.
    @Test func dateMatchesFoundationsFormatting() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        var generator = SystemRandomNumberGenerator()
        let fixed: [TimeInterval] = [0, -1, 951_868_799, 951_868_800, 1_764_032_589, 4_102_444_800, -2_208_988_800]
        let random = (0..<2000).map { _ in TimeInterval(Int64.random(in: -2_208_988_800...7_258_118_400, using: &generator)) }
        for seconds in fixed + random {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(MailHeaderText.date(date) == formatter.string(from: date), "at \(seconds)")
        }
        #expect(MailHeaderText.date(Date(timeIntervalSince1970: -1)) == "Wed, 31 Dec 1969 23:59:59 +0000")
    }

    @Test(arguments: [
        ("one\ntwo\r\nthree\rfour", "one\r\ntwo\r\nthree\r\nfour\r\n"),
        ("ends with LF\n", "ends with LF\r\n"),
        ("blank lines\n\n\r\n\r\rend", "blank lines\r\n\r\n\r\n\r\n\r\nend\r\n"),
        ("", ""),
        ("\n", "\r\n"),
        ("CR then LF apart\r\r\n", "CR then LF apart\r\n\r\n"),
        ("nul\u{0}dropped", "nuldropped\r\n"),
    ])
    func bodyLineEndsBecomeCRLF(_ body: String, _ expected: String) throws {
        let text = try message(body: body).rendered(date: Self.date, messageID: "x@y")
        let bodyPart = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        #expect(Array(bodyPart.utf8) == Array(expected.utf8))
        Self.expectOnlyCRLF(text)
    }

    static func expectOnlyCRLF(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let bytes = Array(text.utf8)
        for (index, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "\n") {
                #expect(index > 0 && bytes[index - 1] == UInt8(ascii: "\r"), "bare LF at \(index)", sourceLocation: sourceLocation)
            }
            if byte == UInt8(ascii: "\r") {
                #expect(index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n"), "bare CR at \(index)", sourceLocation: sourceLocation)
            }
        }
    }

    static func bodyLines(_ text: String) -> [String] {
        let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return body.components(separatedBy: "\r\n").dropLast()
    }

    @Test func longLinesAreBrokenAt998Bytes() throws {
        let ascii = String(repeating: "x", count: 2500)
        let lines = Self.bodyLines(try message(body: "short\n" + ascii + "\nafter").rendered(date: Self.date, messageID: "x@y"))
        #expect(lines.map(\.utf8.count) == [5, 998, 998, 504, 5])
        #expect(lines[1...3].joined() == ascii)

        // Two-byte characters: 998 bytes hold 499 of them exactly; three-byte ones 332 (996 bytes),
        // never half a character.
        let accents = String(repeating: "é", count: 600)
        #expect(Self.bodyLines(try message(body: accents).rendered(date: Self.date, messageID: "x@y")).map(\.utf8.count) == [998, 202])
        let checks = String(repeating: "✓", count: 400)
        let checkLines = Self.bodyLines(try message(body: checks).rendered(date: Self.date, messageID: "x@y"))
        #expect(checkLines.map(\.utf8.count) == [996, 204])
        #expect(checkLines.joined() == checks)

        let exact = String(repeating: "y", count: 998)
        #expect(Self.bodyLines(try message(body: exact).rendered(date: Self.date, messageID: "x@y")) == [exact])
    }

    @Test func nonASCIISubjectIsEncoded() throws {
        let text = try message(subject: "Échec du job ✓").rendered(date: Self.date, messageID: "x@y")
        #expect(text.contains("\r\nSubject: =?UTF-8?B?w4ljaGVjIGR1IGpvYiDinJM=?=\r\n"))
    }

    @Test func longNonASCIISubjectIsFoldedIntoWholeCharacterWords() throws {
        let subject = String(repeating: "日本語のジョブ ", count: 12) + "終了"
        let text = try message(subject: subject).rendered(date: Self.date, messageID: "x@y")
        let start = text.range(of: "Subject: ")!.upperBound
        let value = text[start...].prefix { _ in true }.components(separatedBy: "\r\nMessage-ID:")[0]
        let words = value.components(separatedBy: "\r\n ")
        #expect(words.count > 1)
        var decoded = ""
        for word in words {
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="), "\(word)")
            #expect(word.utf8.count <= 75)
            let base64 = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            // Each word on its own is valid UTF-8: no character split between two words.
            let bytes = try #require(Data(base64Encoded: String(base64)))
            let part = try #require(String(validating: bytes, as: UTF8.self))
            decoded += part
        }
        #expect(decoded == subject)
        Self.expectOnlyCRLF(text)
    }

    @Test func asciiSubjectsThatCouldBeMisreadAreEncodedToo() throws {
        #expect(try message(subject: "plain ascii").rendered(date: Self.date, messageID: "x@y").contains("Subject: plain ascii\r\n"))
        let lookalike = try message(subject: "=?UTF-8?B?eA==?=").rendered(date: Self.date, messageID: "x@y")
        #expect(lookalike.contains("Subject: =?UTF-8?B?PT9VVEYtOD9CP2VBPT0/PQ==?=\r\n"))
        let long = String(repeating: "a", count: 1200)
        let longText = try message(subject: long).rendered(date: Self.date, messageID: "x@y")
        #expect(longText.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 })
    }

    @Test func manyRecipientsAreFoldedIntoShortLines() throws {
        let to = (1...12).map { "maintainer\($0)@tools.example.org" }
        let text = try message(to: to).rendered(date: Self.date, messageID: "x@y")
        let header = text.components(separatedBy: "\r\nSubject:")[0].components(separatedBy: "\r\nTo: ")[1]
        let lines = header.components(separatedBy: "\r\n")
        #expect(lines.count > 1)
        #expect(("To: " + lines[0]).count <= 78 && lines.dropFirst().allSatisfy { $0.hasPrefix(" ") && $0.count <= 78 })
        #expect(header.replacingOccurrences(of: "\r\n", with: "") == to.joined(separator: ", "))
    }

    @Test func messageIDKeepsOnlyWhatAnIDMayHold() throws {
        let text = try message().rendered(date: Self.date, messageID: "<a b\r\nBcc: x@evil>@kiln.example")
        #expect(text.contains("\r\nMessage-ID: <abBcc:x@evil@kiln.example>\r\n"))
        #expect(!text.contains("Bcc: "))
        let made = MailMessage.makeMessageID(domain: "kiln.example", date: Self.date)
        #expect(made.hasSuffix(".1764032589@kiln.example"))
        #expect(made != MailMessage.makeMessageID(domain: "kiln.example", date: Self.date))
    }

    @Test(arguments: [
        "Report\r\nBcc: victim@example.org", "Report\nX-Injected: 1", "Report\r", "nul\u{0}", "bell\u{7}",
    ])
    func subjectWithALineBreakOrControlIsRefused(_ subject: String) {
        #expect {
            _ = try message(subject: subject)
        } throws: { error in
            let error = error as! KilnError
            return error.code == .invalidMail && error.context["field"] == "subject"
        }
    }

    @Test func subjectWithATabIsAccepted() throws {
        #expect(try message(subject: "a\tb").subject == "a\tb")
    }

    @Test func extraHeadersCannotInjectOrOverride() {
        let bad: [MailMessage.Header] = [
            .init("X-Job", "nightly\r\nBcc: victim@example.org"), .init("X-Job", "a\nb"), .init("X Job", "x"),
            .init("X-Job:", "x"), .init("", "x"), .init("Subject", "again"), .init("bcc\r\nX", "x"),
            .init("content-type", "text/html"), .init("Möbius", "x"),
        ]
        for header in bad {
            #expect(throws: KilnError.self, "\(header)") { _ = try message(headers: [header]) }
        }
    }

    @Test(arguments: [
        "maint@example.org", "a.b+c@sub.example.org", "x@localhost", "o'neil@example.org", "x@[127.0.0.1]",
        "under_score-1@ex-ample.org",
    ])
    func validAddresses(_ address: String) throws {
        #expect(try message(to: [address]).to == [address])
        #expect(try MailMessage(from: address, to: ["a@b"], subject: "s", body: "").from == address)
    }

    @Test(arguments: [
        "", "no-at-sign", "@example.org", "a@", "a@b\r\nRCPT TO:<victim@example.org>", "a@b\n", "a b@example.org",
        "<a@example.org>", "a@example.org>", "Name <a@example.org>", "a@b,c@d", ".a@example.org", "a.@example.org",
        "a..b@example.org", "a@-example.org", "a@example..org", "a@exa_mple.org", "émile@example.org",
        "a@b@example.org", "\"quoted\"@example.org", String(repeating: "a", count: 65) + "@example.org",
    ])
    func invalidAddressesAreRefused(_ address: String) {
        #expect {
            _ = try message(to: ["ok@example.org", address])
        } throws: { error in
            let error = error as! KilnError
            return error.code == .invalidAddress && error.context["field"] == "to" && error.context["address"] == address
        }
        #expect(throws: KilnError.self) {
            _ = try MailMessage(from: address, to: ["ok@example.org"], subject: "s", body: "")
        }
    }

    @Test func aMessageNeedsARecipient() {
        #expect(throws: KilnError.self) { _ = try message(to: []) }
    }
}
