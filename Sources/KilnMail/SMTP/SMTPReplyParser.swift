import KilnCore

/// Turns the bytes an SMTP server sends into replies, however the stream is split. Pure: the
/// client feeds it what the socket delivers.
///
/// RFC 5321 4.2: every line is a code, then `-` if more lines follow or a space (or nothing) on
/// the last, then text, then CRLF; all lines of one reply share the code. A lone LF is accepted
/// as a line end too. Anything else is an error: the stream cannot be trusted after it.
public struct SMTPReplyParser: Sendable {
    /// RFC 5321 allows 512 bytes a reply line; a server past this much is not talking SMTP.
    public static let maximumLineLength = 4096
    /// Bounds a reply's memory: EHLO's, the longest in practice, has a dozen lines.
    public static let maximumLines = 1000

    private var buffer: [UInt8] = []
    private var code: Int?
    private var lines: [String] = []

    public init() {}

    /// Adds `bytes` and returns the replies they complete, in order (none while a reply is partial).
    public mutating func parse(_ bytes: some Sequence<UInt8>) throws(KilnError) -> [SMTPReply] {
        buffer.append(contentsOf: bytes)
        var replies: [SMTPReply] = []
        var start = 0
        while let end = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            var line = buffer[start..<end]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            start = end + 1
            if let reply = try parseLine(line) { replies.append(reply) }
        }
        buffer.removeFirst(start)
        guard buffer.count <= Self.maximumLineLength else {
            throw Self.malformed("a reply line longer than \(Self.maximumLineLength) bytes", line: buffer.prefix(80))
        }
        return replies
    }

    /// Whether bytes of an unfinished reply are waiting (a server that closes here cut a reply short).
    public var hasPartialReply: Bool { !buffer.isEmpty || code != nil }

    private mutating func parseLine(_ line: ArraySlice<UInt8>) throws(KilnError) -> SMTPReply? {
        guard line.count <= Self.maximumLineLength else {
            throw Self.malformed("a reply line longer than \(Self.maximumLineLength) bytes", line: line.prefix(80))
        }
        let digits = Array(line.prefix(3))
        // Reply codes are 2-5, 0-5, 0-9 (RFC 5321 4.2).
        guard digits.count == 3, (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(digits[0]),
            (UInt8(ascii: "0")...UInt8(ascii: "5")).contains(digits[1]),
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digits[2])
        else { throw Self.malformed("a reply line must start with a code from 200 to 559", line: line) }
        let lineCode = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        let separator = line.dropFirst(3).first
        guard separator == nil || separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw Self.malformed("the code must be followed by a space, '-' or the line end", line: line)
        }
        if let code, code != lineCode {
            throw Self.malformed("a line with code \(lineCode) inside a reply with code \(code)", line: line)
        }
        code = lineCode
        lines.append(String(decoding: line.dropFirst(4), as: UTF8.self))
        if separator == UInt8(ascii: "-") {
            guard lines.count < Self.maximumLines else {
                throw Self.malformed("a reply of more than \(Self.maximumLines) lines", line: line)
            }
            return nil
        }
        let reply = SMTPReply(code: lineCode, lines: lines)
        code = nil
        lines = []
        return reply
    }

    private static func malformed(_ why: String, line: some Collection<UInt8>) -> KilnError {
        let text = String(decoding: line, as: UTF8.self)
        return KilnError(.unavailable, "the SMTP server sent a malformed reply: \(why)", context: ["reply_line": text])
    }
}
