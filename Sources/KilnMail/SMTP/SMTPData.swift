/// What follows SMTP's DATA command: the message with transparency applied (RFC 5321 4.5.2: a
/// line that starts with '.' gets another, so no line of the message can read as the end), then
/// the end-of-data line `.` CRLF.
enum SMTPData {
    static func payload(_ message: some Collection<UInt8>) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(message.count + 64)
        // Lines are what the server splits on: CRLF, not a lone LF.
        var atLineStart = true
        var afterCR = false
        for byte in message {
            if atLineStart && byte == UInt8(ascii: ".") { bytes.append(byte) }
            bytes.append(byte)
            atLineStart = afterCR && byte == UInt8(ascii: "\n")
            afterCR = byte == UInt8(ascii: "\r")
        }
        // The terminator must start a line of its own.
        if !bytes.isEmpty && !bytes.ends(with: "\r\n".utf8) { bytes += "\r\n".utf8 }
        bytes += ".\r\n".utf8
        return bytes
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: String.UTF8View) -> Bool {
        count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }
}
