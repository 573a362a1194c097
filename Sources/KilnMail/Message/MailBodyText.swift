/// The body as SMTP carries it: lines ended by CRLF, none longer than 998 bytes (RFC 5322 2.1.1).
enum MailBodyText {
    static let maximumLineBytes = 998

    /// CR LF, a lone LF and a lone CR each end a line; the result's every line ends in CRLF (an
    /// empty body stays empty). NUL is dropped: 8bit content may not carry it.
    static func normalized(_ body: String) -> String {
        var result = ""
        result.reserveCapacity(body.utf8.count + 16)
        var lineBytes = 0
        var afterCR = false
        var lineOpen = false
        for scalar in body.unicodeScalars {
            if afterCR {
                afterCR = false
                if scalar == "\n" { continue }
            }
            switch scalar {
            case "\r", "\n":
                afterCR = scalar == "\r"
                result += "\r\n"
                lineBytes = 0
                lineOpen = false
            case "\0":
                continue
            default:
                let size = UTF8.width(scalar)
                // Broken before the character that would pass the limit, never inside it.
                if lineBytes + size > maximumLineBytes {
                    result += "\r\n"
                    lineBytes = 0
                }
                result.unicodeScalars.append(scalar)
                lineBytes += size
                lineOpen = true
            }
        }
        if lineOpen { result += "\r\n" }
        return result
    }
}
