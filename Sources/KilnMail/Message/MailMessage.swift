import Foundation
import KilnCore

/// A plain-text mail, checked when it is made so that rendering cannot fail: addresses are bare
/// `local@domain`, and no subject or header can carry a line break into the message (header
/// injection is refused, not repaired).
public struct MailMessage: Sendable, Hashable {
    /// A header added after the ones every message has (e.g. `Auto-Submitted: auto-generated`).
    public struct Header: Sendable, Hashable {
        public let name: String
        public let value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public let from: String
    public let to: [String]
    public let subject: String
    /// Any line ends; rendering sends them as CRLF.
    public let body: String
    public let headers: [Header]

    /// The headers `rendered` writes itself; given again they would make the message ambiguous.
    static let ownHeaders: Set<String> = [
        "date", "from", "to", "subject", "message-id", "mime-version", "content-type", "content-transfer-encoding",
    ]

    public init(from: String, to: [String], subject: String, body: String, headers: [Header] = []) throws(KilnError) {
        try MailAddress.validate(from, field: "from")
        guard !to.isEmpty else {
            throw KilnError(.invalidAddress, "a mail needs at least one recipient", context: ["field": "to"])
        }
        for address in to { try MailAddress.validate(address, field: "to") }
        try Self.validateText(subject, field: "subject")
        for header in headers {
            let name = header.name
            // RFC 5322 field names: printable ASCII but ':'.
            let isFieldName = name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }
            guard !name.isEmpty, name.utf8.count <= 76, isFieldName else {
                throw KilnError(
                    .invalidMail, "invalid mail header name '\(name)': use printable ASCII without spaces or ':'",
                    context: ["field": "header", "header": name])
            }
            guard !Self.ownHeaders.contains(name.lowercased()) else {
                throw KilnError(
                    .invalidMail, "the mail header \(name) is set by Kiln and cannot be given again",
                    context: ["field": "header", "header": name])
            }
            try Self.validateText(header.value, field: name)
        }
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.headers = headers
    }

    /// One line of unstructured header text: a CR or LF would start a header of the sender's
    /// choosing, other control characters have no business in a header either (tab is allowed).
    static func validateText(_ text: String, field: String) throws(KilnError) {
        for scalar in text.unicodeScalars where scalar.value < 0x20 && scalar != "\t" || scalar.value == 0x7F {
            let why = scalar == "\r" || scalar == "\n" ? "a line break (CR or LF)" : "a control character"
            throw KilnError(
                .invalidMail, "the mail \(field) must be one line of text, but it contains \(why)",
                context: ["field": field, "value": text])
        }
    }

    /// The message as RFC 5322 text with CRLF line ends, ready for SMTP's DATA (before dot-stuffing).
    ///
    /// `messageID` is the id without angle brackets (`makeMessageID(domain:)` makes one); any
    /// character that cannot appear in it (spaces, line breaks, `<>`, non-ASCII) is dropped.
    /// The body is UTF-8 sent as 8bit: its lines end in CRLF whatever they ended in, NUL
    /// characters are dropped, and a line longer than 998 bytes (SMTP's limit) is broken into
    /// several, at character boundaries.
    public func rendered(date: Date, messageID: String) -> String {
        let id = String(String.UnicodeScalarView(messageID.unicodeScalars.filter {
            $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">"
        }))
        var text = ""
        func header(_ name: String, _ value: String) { text += "\(name): \(value)\r\n" }
        header("Date", MailHeaderText.date(date))
        header("From", from)
        header("To", MailHeaderText.addressList(to, headerName: "To"))
        header("Subject", MailHeaderText.unstructured(subject, headerName: "Subject"))
        header("Message-ID", "<\(id)>")
        header("MIME-Version", "1.0")
        header("Content-Type", "text/plain; charset=utf-8")
        header("Content-Transfer-Encoding", "8bit")
        for extra in headers { header(extra.name, MailHeaderText.unstructured(extra.value, headerName: extra.name)) }
        text += "\r\n"
        text += MailBodyText.normalized(body)
        return text
    }

    /// A fresh, globally unique id `RANDOM.SECONDS@domain`, without angle brackets.
    public static func makeMessageID(domain: String, date: Date = Date()) -> String {
        let random = (0..<2).map { _ in String(UInt64.random(in: .min ... .max), radix: 36) }.joined()
        return "\(random).\(Int(date.timeIntervalSince1970))@\(domain)"
    }
}
