import KilnCore
import NIOCore
import Testing

@testable import KilnRedis

@Suite struct RESPCodecTests {
    func decodeAll(_ text: String) throws -> [RESPValue] {
        var buffer = ByteBuffer(string: text)
        var values: [RESPValue] = []
        while let value = try RESPDecoder.decodeValue(from: &buffer) { values.append(value) }
        #expect(buffer.readableBytes == 0, "left over: \(String(buffer: buffer))")
        return values
    }

    @Test func decodesEveryType() throws {
        let values = try decodeAll(
            "+OK\r\n-ERR no such key\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*2\r\n$1\r\na\r\n:1\r\n*-1\r\n*0\r\n")
        #expect(
            values == [
                .simpleString("OK"), .error("ERR no such key"), .integer(42), .integer(-7), .bulk("hello"), .bulk(""),
                .bulkString(nil), .array([.bulk("a"), .integer(1)]), .array(nil), .array([]),
            ])
    }

    @Test func bulkStringsMayHoldAnyByte() throws {
        #expect(try decodeAll("$4\r\na\r\nb\r\n") == [.bulk("a\r\nb")])
        #expect(try decodeAll("$4\r\nçé\r\n").first?.string == "çé")
    }

    @Test func integersCoverTheSigned64BitRange() throws {
        #expect(try decodeAll(":9223372036854775807\r\n:-9223372036854775808\r\n") == [.integer(.max), .integer(.min)])
    }

    @Test func nestedArrays() throws {
        #expect(
            try decodeAll("*2\r\n*1\r\n+x\r\n*2\r\n:1\r\n$-1\r\n")
                == [.array([.array([.simpleString("x")]), .array([.integer(1), .bulkString(nil)])])])
    }

    /// A value split at every byte consumes nothing until it is whole, then decodes exactly.
    @Test(arguments: [
        "*3\r\n$8\r\npmessage\r\n$6\r\nwo\r\nld\r\n*2\r\n:-12\r\n$-1\r\n",
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        "$10\r\n0123456789\r\n",
        ":123456\r\n",
    ])
    func partialInputConsumesNothingUntilComplete(_ text: String) throws {
        // Bytes, not Characters: "\r\n" is a single Character.
        let whole = Array(text.utf8)
        let expected = try decodeAll(text)
        #expect(expected.count == 1)
        for cut in 1..<whole.count {
            var buffer = ByteBuffer(bytes: whole[..<cut])
            #expect(try RESPDecoder.decodeValue(from: &buffer) == nil, "cut at \(cut)")
            #expect(buffer.readableBytes == cut, "consumed part of an incomplete value at cut \(cut)")
            buffer.writeBytes(whole[cut...])
            #expect(try RESPDecoder.decodeValue(from: &buffer) == expected[0], "cut at \(cut)")
            #expect(buffer.readableBytes == 0)
        }
    }

    /// Fed one byte at a time, as a slow socket might, a stream of replies comes out whole and
    /// in order.
    @Test func byteByByteStream() throws {
        let text = "+OK\r\n*2\r\n$3\r\nfoo\r\n:5\r\n-ERR x\r\n$-1\r\n"
        var buffer = ByteBuffer()
        var values: [RESPValue] = []
        for byte in text.utf8 {
            buffer.writeInteger(byte)
            while let value = try RESPDecoder.decodeValue(from: &buffer) { values.append(value) }
        }
        #expect(values == [.simpleString("OK"), .array([.bulk("foo"), .integer(5)]), .error("ERR x"), .bulkString(nil)])
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: [
        "?what\r\n",  // unknown type
        ":12x\r\n",  // not an integer
        ":\r\n",  // empty integer
        ":99999999999999999999\r\n",  // out of range
        "$abc\r\n",  // bad bulk length
        "$-2\r\n",  // negative bulk length
        "$3\r\nabcXY",  // bulk without CRLF
        "+OK\rX",  // CR without LF
        "*-5\r\n",  // negative array length
        "*1\r\n!\r\n",  // bad element
    ])
    func malformedInputIsRefused(_ text: String) {
        var buffer = ByteBuffer(string: text)
        #expect(throws: KilnError.self) { try RESPDecoder.decodeValue(from: &buffer) }
    }

    @Test func endlessLinesAndDeepNestingAreRefused() {
        var long = ByteBuffer(string: "+" + String(repeating: "x", count: 70_000))
        #expect(throws: KilnError.self) { try RESPDecoder.decodeValue(from: &long) }
        var deep = ByteBuffer(string: String(repeating: "*1\r\n", count: 100) + ":1\r\n")
        #expect(throws: KilnError.self) { try RESPDecoder.decodeValue(from: &deep) }
    }

    @Test func commandsAreArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPEncoder.encode(command: ["HSET", "prefix:t", ".*", "127.0.0.1:8000"], into: &buffer)
        #expect(String(buffer: buffer) == "*4\r\n$4\r\nHSET\r\n$8\r\nprefix:t\r\n$2\r\n.*\r\n$14\r\n127.0.0.1:8000\r\n")
    }

    /// Lengths are in bytes, and no argument needs quoting: what goes in comes back out.
    @Test func encodedCommandsDecodeToTheSameArguments() throws {
        let command = ["SET", "clé", "a b\r\nc", "", "*"]
        var buffer = ByteBuffer()
        RESPEncoder().encode(data: command, out: &buffer)
        let decoded = try RESPDecoder.decodeValue(from: &buffer)
        #expect(decoded?.array?.compactMap(\.string) == command)
        #expect(buffer.readableBytes == 0)
    }
}
