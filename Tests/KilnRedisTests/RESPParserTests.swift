import KilnCore
import NIOCore
import Testing

@testable import KilnRedis

@Suite struct RESPParserTests {
    @Test func parsesEveryType() throws {
        var buffer = ByteBuffer(string: "+OK\r\n-ERR no\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\na\r\n:1\r\n*-1\r\n*0\r\n")
        #expect(try RESPParser.parse(&buffer) == .simpleString("OK"))
        #expect(try RESPParser.parse(&buffer) == .error("ERR no"))
        #expect(try RESPParser.parse(&buffer) == .integer(42))
        #expect(try RESPParser.parse(&buffer)?.string == "hello")
        #expect(try RESPParser.parse(&buffer) == .bulkString(nil))
        #expect(try RESPParser.parse(&buffer) == .array([.bulkString(ByteBuffer(string: "a")), .integer(1)]))
        #expect(try RESPParser.parse(&buffer) == .array(nil))
        #expect(try RESPParser.parse(&buffer) == .array([]))
        #expect(buffer.readableBytes == 0)
    }

    @Test func partialInputConsumesNothingUntilComplete() throws {
        // Bytes, not Characters: "\r\n" is one Character.
        let whole = Array("*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n".utf8)
        for cut in 1..<whole.count {
            var buffer = ByteBuffer(bytes: whole[..<cut])
            #expect(try RESPParser.parse(&buffer) == nil, "cut at \(cut)")
            #expect(buffer.readableBytes == cut)
            buffer.writeBytes(whole[cut...])
            #expect(try RESPParser.parse(&buffer)?.array?.compactMap(\.string) == ["hello", "world"])
        }
    }

    @Test(arguments: ["?what\r\n", ":12x\r\n", "$abc\r\n", "$3\r\nabcXY", "+OK\rX", "*-5\r\n"])
    func malformedInputIsRefused(_ text: String) {
        var buffer = ByteBuffer(string: text)
        #expect(throws: KilnError.self) { try RESPParser.parse(&buffer) }
    }

    @Test func deepNestingIsRefused() {
        var buffer = ByteBuffer(string: String(repeating: "*1\r\n", count: 100) + ":1\r\n")
        #expect(throws: KilnError.self) { try RESPParser.parse(&buffer) }
    }

    @Test func commandsAreArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPParser.encode(command: ["HSET", "prefix:t", ".*", "127.0.0.1:8000"], into: &buffer)
        #expect(String(buffer: buffer) == "*4\r\n$4\r\nHSET\r\n$8\r\nprefix:t\r\n$2\r\n.*\r\n$14\r\n127.0.0.1:8000\r\n")
    }

    @Test func redisURLs() throws {
        #expect(try RedisURL(parsing: "redis://127.0.0.1:6380/2") == RedisURL(host: "127.0.0.1", port: 6380, database: 2))
        #expect(try RedisURL(parsing: "redis://cache") == RedisURL(host: "cache", port: 6379, database: 0))
        for bad in ["http://x", "redis://", "redis://h:port", "redis://h:1/x"] {
            #expect(throws: KilnError.self) { try RedisURL(parsing: bad) }
        }
    }

    @Test func hashFieldsBecomeRoutesWithCatchAllsLast() {
        let reply = RESPValue.array([
            .bulkString(ByteBuffer(string: ".*")), .bulkString(ByteBuffer(string: "127.0.0.1:1")),
            .bulkString(ByteBuffer(string: "^/api")), .bulkString(ByteBuffer(string: "127.0.0.1:2")),
            .bulkString(ByteBuffer(string: "^/bad")), .bulkString(ByteBuffer(string: "not-an-address")),
        ])
        let routes = RedisRouteStore.routes(tool: "t", hgetall: reply, logger: .init(label: "test"))
        #expect(routes.map(\.pattern) == ["^/api", ".*"])
    }
}
