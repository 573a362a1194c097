import KilnCore
import NIOCore

/// Parses RESP2 values from a buffer that may hold a part of one, one, or several.
public enum RESPParser {
    /// Nesting deeper than this is refused: no reply of the commands Kiln sends comes close.
    static let maximumDepth = 32
    static let maximumBulkLength = 512 * 1024 * 1024

    /// The next complete value, consuming its bytes; nil (consuming nothing) when the buffer holds
    /// only part of it.
    public static func parse(_ buffer: inout ByteBuffer) throws(KilnError) -> RESPValue? {
        var copy = buffer
        guard let value = try parseValue(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    static func parseValue(_ buffer: inout ByteBuffer, depth: Int) throws(KilnError) -> RESPValue? {
        guard depth < maximumDepth else { throw malformed("nesting too deep") }
        guard let marker = buffer.readInteger(as: UInt8.self) else { return nil }
        switch marker {
        case UInt8(ascii: "+"):
            return try readLine(&buffer).map { .simpleString($0) }
        case UInt8(ascii: "-"):
            return try readLine(&buffer).map { .error($0) }
        case UInt8(ascii: ":"):
            guard let line = try readLine(&buffer) else { return nil }
            guard let value = Int(line) else { throw malformed("bad integer '\(line)'") }
            return .integer(value)
        case UInt8(ascii: "$"):
            guard let line = try readLine(&buffer) else { return nil }
            guard let length = Int(line), length >= -1, length <= maximumBulkLength else {
                throw malformed("bad bulk length '\(line)'")
            }
            if length == -1 { return .bulkString(nil) }
            guard buffer.readableBytes >= length + 2 else { return nil }
            let bytes = buffer.readSlice(length: length)!
            guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw malformed("bulk string without CRLF") }
            return .bulkString(bytes)
        case UInt8(ascii: "*"):
            guard let line = try readLine(&buffer) else { return nil }
            guard let count = Int(line), count >= -1 else { throw malformed("bad array length '\(line)'") }
            if count == -1 { return .array(nil) }
            var values: [RESPValue] = []
            values.reserveCapacity(min(count, 1024))
            for _ in 0..<count {
                guard let value = try parseValue(&buffer, depth: depth + 1) else { return nil }
                values.append(value)
            }
            return .array(values)
        default:
            throw malformed("unknown type byte \(marker)")
        }
    }

    /// A line up to CRLF, or nil when the CRLF has not arrived yet.
    static func readLine(_ buffer: inout ByteBuffer) throws(KilnError) -> String? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")) else {
            if view.count > 64 * 1024 { throw malformed("line too long") }
            return nil
        }
        let lineLength = cr - view.startIndex
        guard buffer.readableBytes >= lineLength + 2 else { return nil }
        let line = buffer.readString(length: lineLength)!
        guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw malformed("CR without LF") }
        return line
    }

    /// A command as RESP: an array of bulk strings.
    public static func encode(command: [String], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(command.count)\r\n")
        for argument in command {
            buffer.writeString("$\(argument.utf8.count)\r\n")
            buffer.writeString(argument)
            buffer.writeString("\r\n")
        }
    }

    static func malformed(_ what: String) -> KilnError {
        KilnError(.unavailable, "malformed reply from Redis: \(what)")
    }
}
