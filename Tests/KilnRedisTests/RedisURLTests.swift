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

    @Test func parsesPercentEncodedCredentials() throws {
        let acl = try RedisURL(parsing: "redis://kiln-proxy:s%3Ac%40r%2Fe%25t@cache:6380/2")
        #expect(acl == RedisURL(host: "cache", port: 6380, database: 2, user: "kiln-proxy", password: "s:c@r/e%t"))
        // An unescaped '@' in the password: the last one ends the credentials.
        #expect(try RedisURL(parsing: "redis://u:p@ss@cache").password == "p@ss")
        // `requirepass` alone: the default user.
        let legacy = try RedisURL(parsing: "redis://:secret@cache")
        #expect(legacy.user == nil && legacy.password == "secret")
        // A user whose password comes from a file.
        let userOnly = try RedisURL(parsing: "redis://kiln%20server@cache")
        #expect(userOnly.user == "kiln server" && userOnly.password == nil)
    }

    @Test func neverShowsThePassword() throws {
        let url = try RedisURL(parsing: "redis://kiln-proxy:hunter2@cache:6380/2")
        #expect(url.description == "redis://kiln-proxy:***@cache:6380/2")
        #expect(String(reflecting: url).contains("hunter2") == false)
        #expect(try RedisURL(parsing: "redis://:hunter2@cache").description == "redis://:***@cache:6379/0")
        #expect(url.identity == "user 'kiln-proxy'")
        let error = #expect(throws: KilnError.self) { try RedisURL(parsing: "redis://u:hunter2@cache:port") }
        #expect(error?.message.contains("hunter2") == false)
        #expect(error?.message.contains("redis://***@cache:port") == true, "\(String(describing: error))")
        #expect(error?.context["url"]?.contains("hunter2") == false)
    }

    @Test(arguments: [
        "http://x:1", "redis://", "redis://:6379", "redis://h:port", "redis://h:1/x", "redis://h:1/-1", "redis://h:70000",
        "redis://h:0", "redis://h:1/0?timeout=1", "redis://::1:6379", "127.0.0.1:6379",
    ])
    func refusesWhatIsNotARedisURL(_ text: String) {
        let error = #expect(throws: KilnError.self) { try RedisURL(parsing: text) }
        #expect(error?.code == .invalidAddress)
        #expect(error?.message.contains(text) == true, "the message names the input")
    }

    @Test(arguments: ["redis://u:%zz@h", "redis://%4@h", "redis://u:@h", "redis://@h", "redis://:@h"])
    func refusesBadCredentials(_ text: String) {
        let error = #expect(throws: KilnError.self) { try RedisURL(parsing: text) }
        #expect(error?.code == .invalidAddress)
    }
}
