import KilnCore
import KilnMail
import Testing

@Suite struct SMTPReplyParserTests {
    static let ehlo = "250-mail.example.org Hello kiln\r\n250-SIZE 33554432\r\n250-8BITMIME\r\n250 HELP\r\n"
    static let conversation = "220 mail.example.org ESMTP ready\r\n" + ehlo + "250 OK\r\n354 End data with <CR><LF>.<CR><LF>\r\n221\r\n"
    static let expected = [
        SMTPReply(code: 220, lines: ["mail.example.org ESMTP ready"]),
        SMTPReply(code: 250, lines: ["mail.example.org Hello kiln", "SIZE 33554432", "8BITMIME", "HELP"]),
        SMTPReply(code: 250, lines: ["OK"]),
        SMTPReply(code: 354, lines: ["End data with <CR><LF>.<CR><LF>"]),
        SMTPReply(code: 221, lines: [""]),
    ]

    func parse(_ text: String) throws(KilnError) -> [SMTPReply] {
        var parser = SMTPReplyParser()
        return try parser.parse(Array(text.utf8))
    }

    @Test func parsesSingleAndMultiLineReplies() throws {
        #expect(try parse(Self.conversation) == Self.expected)
        #expect(Self.expected[1].description == "250 mail.example.org Hello kiln | SIZE 33554432 | 8BITMIME | HELP")
        #expect(Self.expected[4].description == "221")
    }

    /// Whatever TCP does to the stream, the same replies come out, each once the last byte of
    /// its final line has arrived and not before.
    @Test func everySplitPositionGivesTheSameReplies() throws {
        let bytes = Array(Self.conversation.utf8)
        for cut in 0...bytes.count {
            var parser = SMTPReplyParser()
            let first = try parser.parse(bytes[..<cut])
            let second = try parser.parse(bytes[cut...])
            #expect(first + second == Self.expected, "cut at \(cut)")
            #expect(!parser.hasPartialReply)
            // Replies whose last line ended before the cut, exactly.
            let complete = Self.expected.indices.filter { index in
                let end = Self.expected[...index].map { reply in reply.lines.count }.reduce(0, +)
                return bytes[..<cut].filter { $0 == UInt8(ascii: "\n") }.count >= end
            }.count
            #expect(first.count == complete, "cut at \(cut)")
        }
    }

    @Test func byteAtATime() throws {
        var parser = SMTPReplyParser()
        var replies: [SMTPReply] = []
        for byte in Self.conversation.utf8 {
            replies += try parser.parse([byte])
            if byte != UInt8(ascii: "\n") { #expect(parser.hasPartialReply) }
        }
        #expect(replies == Self.expected)
    }

    @Test func continuationLinesWaitForTheLastLine() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.parse(Array("250-first\r\n250-second\r\n".utf8)) == [])
        #expect(parser.hasPartialReply)
        #expect(try parser.parse(Array("250 last\r\n".utf8)) == [SMTPReply(code: 250, lines: ["first", "second", "last"])])
    }

    @Test func loneLFEndsALineAndTextKeepsItsSpaces() throws {
        #expect(try parse("250-a\n250  two spaces \n") == [SMTPReply(code: 250, lines: ["a", " two spaces "])])
        #expect(try parse("250-\r\n250\r\n") == [SMTPReply(code: 250, lines: ["", ""])])
    }

    @Test(arguments: [
        ("25\r\n", "must start with a code"),
        ("abc hello\r\n", "must start with a code"),
        ("\r\n", "must start with a code"),
        ("650 out of range\r\n", "must start with a code"),
        ("170 too low\r\n", "must start with a code"),
        ("260 second digit\r\n", "must start with a code"),
        ("250_underscore\r\n", "followed by a space"),
        ("2500 four digits\r\n", "followed by a space"),
        ("250-first\r\n251 second\r\n", "code 251 inside a reply with code 250"),
    ])
    func malformedLinesAreErrors(_ text: String, _ why: String) {
        #expect {
            _ = try parse(text)
        } throws: { error in
            let error = error as! KilnError
            return error.message.contains("malformed reply") && error.message.contains(why)
        }
    }

    @Test func endlessLinesAndRepliesAreCutOff() throws {
        // Without a line end, the buffer is refused once past the limit rather than grown forever.
        var parser = SMTPReplyParser()
        #expect(throws: KilnError.self) {
            _ = try parser.parse(Array(repeating: UInt8(ascii: "2"), count: SMTPReplyParser.maximumLineLength + 1))
        }
        var short = SMTPReplyParser()
        #expect(try short.parse(Array(repeating: UInt8(ascii: "2"), count: SMTPReplyParser.maximumLineLength)) == [])
        let endless = String(repeating: "250-more\r\n", count: SMTPReplyParser.maximumLines + 1)
        #expect(throws: KilnError.self) { _ = try parse(endless) }
    }
}
