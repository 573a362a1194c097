import KilnCore
import KilnRedis
import Testing

@Suite struct RedisURLTests {
    @Test func parsesHostPortAndDatabase() throws {
        #expect(try RedisURL(parsing: "redis://127.0.0.1:6380/2") == RedisURL(host: "127.0.0.1", port: 6380, database: 2))
        #expect(try RedisURL(parsing: "redis://127.0.0.1:6380") == RedisURL(host: "127.0.0.1", port: 6380, database: 0))
        #expect(try RedisURL(parsing: "redis://cache") == RedisURL(host: "cache", port: 6379, database: 0))
        #expect(try RedisURL(parsing: "redis://cache/") == RedisURL(host: "cache", port: 6379, database: 0))
        #expect(try RedisURL(parsing: "redis://[::1]:7000/1") == RedisURL(host: "::1", port: 7000, database: 1))
        #expect(RedisURL(host: "::1", port: 7000, database: 1).description == "redis://[::1]:7000/1")
    }

    @Test(arguments: [
        "http://x:1", "redis://", "redis://:6379", "redis://h:port", "redis://h:1/x", "redis://h:1/-1", "redis://h:70000",
        "redis://h:0", "redis://user:secret@h:1", "redis://h:1/0?timeout=1", "redis://::1:6379", "127.0.0.1:6379",
    ])
    func refusesWhatIsNotARedisURL(_ text: String) {
        let error = #expect(throws: KilnError.self) { try RedisURL(parsing: text) }
        #expect(error?.code == .invalidAddress)
        #expect(error?.message.contains(text) == true, "the message names the input")
    }
}
