/// One reply of an SMTP server: a three-digit code and its text, one entry per line (a multi-line
/// reply such as EHLO's has several).
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    /// The text of each line after the code and its separator; may be empty.
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// 2xx: done; 3xx: go on (DATA's 354); 4xx: failed for now; 5xx: failed for good.
    public var isPositive: Bool { (200..<300).contains(code) }
    public var isPermanentFailure: Bool { (500..<600).contains(code) }

    /// One line for messages and logs: `250 first | second`.
    public var description: String {
        let text = lines.filter { !$0.isEmpty }.joined(separator: " | ")
        return text.isEmpty ? String(code) : "\(code) \(text)"
    }
}
