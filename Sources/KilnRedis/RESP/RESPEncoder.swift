import NIOCore

/// Encodes commands the way every Redis client sends them: an array of bulk strings, so that
/// arguments may hold spaces, CRLF or any other byte without quoting.
public struct RESPEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = [String]

    public init() {}

    public func encode(data command: [String], out: inout ByteBuffer) {
        Self.encode(command: command, into: &out)
    }

    public static func encode(command: [String], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        buffer.writeString(String(command.count))
        buffer.writeStaticString("\r\n")
        for argument in command {
            buffer.writeInteger(UInt8(ascii: "$"))
            buffer.writeString(String(argument.utf8.count))
            buffer.writeStaticString("\r\n")
            buffer.writeString(argument)
            buffer.writeStaticString("\r\n")
        }
    }
}
