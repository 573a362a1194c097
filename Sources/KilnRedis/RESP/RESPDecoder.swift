import KilnCore
import NIOCore

/// Decodes RESP2 values from a byte stream that may split them anywhere.
///
/// The parser is a pure function of the buffer (``decodeValue(from:)``): it either consumes one
/// whole value or nothing, so a partial frame simply waits for more bytes.
public struct RESPDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = RESPValue

    /// Nesting deeper than this is refused: no reply to a command Kiln sends comes close.
    static let maximumDepth = 32
    /// Redis's own limit for a bulk string (proto-max-bulk-len).
    static let maximumBulkLength = 512 * 1024 * 1024
    /// A type/length/simple-string line longer than this is not Redis talking.
    static let maximumLineLength = 64 * 1024

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try Self.decodeValue(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(value))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    /// The next complete value, consuming its bytes; nil, consuming nothing, when the buffer holds
    /// only part of it. Malformed input throws.
    public static func decodeValue(from buffer: inout ByteBuffer) throws(KilnError) -> RESPValue? {
        // Reads from a copy share the storage; only a complete value moves the caller's reader index.
        var copy = buffer
        guard let value = try parseValue(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    static func parseValue(_ buffer: inout ByteBuffer, depth: Int) throws(KilnError) -> RESPValue? {
        guard depth < maximumDepth else { throw malformed("nesting deeper than \(maximumDepth)") }
        guard let marker = buffer.readInteger(as: UInt8.self) else { return nil }
        switch marker {
        case UInt8(ascii: "+"):
            return try readLine(&buffer).map { .simpleString(String(buffer: $0)) }
        case UInt8(ascii: "-"):
            return try readLine(&buffer).map { .error(String(buffer: $0)) }
        case UInt8(ascii: ":"):
            guard let line = try readLine(&buffer) else { return nil }
            return .integer(try integer(line))
        case UInt8(ascii: "$"):
            guard let line = try readLine(&buffer) else { return nil }
            let length = try integer(line)
            if length == -1 { return .bulkString(nil) }
            guard (0...maximumBulkLength).contains(length) else { throw malformed("bulk length \(length)") }
            guard buffer.readableBytes >= length + 2 else { return nil }
            guard let bytes = buffer.readSlice(length: length) else { return nil }
            guard buffer.readInteger(as: UInt16.self) == crlf else { throw malformed("bulk string not ended by CRLF") }
            return .bulkString(bytes)
        case UInt8(ascii: "*"):
            guard let line = try readLine(&buffer) else { return nil }
            let count = try integer(line)
            if count == -1 { return .array(nil) }
            guard count >= 0 else { throw malformed("array length \(count)") }
            var values: [RESPValue] = []
            // Never trust a length for an allocation before its elements have arrived.
            values.reserveCapacity(min(count, buffer.readableBytes / 4))
            for _ in 0..<count {
                guard let value = try parseValue(&buffer, depth: depth + 1) else { return nil }
                values.append(value)
            }
            return .array(values)
        default:
            throw malformed("unknown type byte 0x\(String(marker, radix: 16))")
        }
    }

    static let crlf: UInt16 = 0x0D0A

    /// The bytes up to CRLF (consumed with it), or nil when the CRLF has not arrived yet.
    static func readLine(_ buffer: inout ByteBuffer) throws(KilnError) -> ByteBuffer? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")) else {
            if view.count > maximumLineLength { throw malformed("line longer than \(maximumLineLength) bytes") }
            return nil
        }
        let lineLength = cr - view.startIndex
        guard buffer.readableBytes >= lineLength + 2 else { return nil }
        guard let line = buffer.readSlice(length: lineLength) else { return nil }
        guard buffer.readInteger(as: UInt16.self) == crlf else { throw malformed("CR not followed by LF") }
        return line
    }

    /// A decimal integer, optionally signed, without going through String.
    static func integer(_ line: ByteBuffer) throws(KilnError) -> Int {
        var digits = line.readableBytesView[...]
        var negative = false
        if let sign = digits.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { throw malformed("'\(String(buffer: line))' is not an integer") }
        var value = 0
        for byte in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                throw malformed("'\(String(buffer: line))' is not an integer")
            }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            // Accumulated with the sign, so Int.min (as DECRBY can reach) fits.
            let digit = Int(byte - UInt8(ascii: "0"))
            let (next, overflow2) =
                negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { throw malformed("integer '\(String(buffer: line))' out of range") }
            value = next
        }
        return value
    }

    static func malformed(_ what: String) -> KilnError {
        KilnError(.unavailable, "malformed reply from Redis: \(what)", context: ["protocol": "RESP2"])
    }
}
