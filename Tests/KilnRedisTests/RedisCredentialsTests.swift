import KilnCore
import KilnTesting
import Testing

@testable import KilnRedis

extension RedisServerTests {
    /// Routes in a Redis that has ACL users: the rules `RedisRouteACL` gives (and the README
    /// shows) are enough for each role, and no more.
    @Suite struct RedisCredentialsTests {
        let proxyPassword = "proxy-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let serverPassword = "server/p@ss:" + String(UInt64.random(in: 0...UInt64.max), radix: 36)

        func route(_ tool: String, port: Int = 9000) -> Route {
            Route(tool: tool, pattern: ".*", backend: HostPort(host: "127.0.0.1", port: port))
        }

        /// A server with the proxy's and the server's users, on database `database`.
        func redis(database: Int = 0) throws -> RedisServer {
            try RedisServer(users: [
                "kiln-proxy on >\(proxyPassword) " + RedisRouteACL(.readOnly, database: database).rules,
                "kiln-server on >\(serverPassword) " + RedisRouteACL(.readWrite, database: database).rules,
            ])
        }

        /// The rules the README shows, for the default prefix and database.
        @Test func theRulesAreTheOnesTheREADMEShows() {
            let channel = "resetchannels &__keyspace@0__:prefix:* -@all"
            #expect(RedisRouteACL(.readOnly).rules == "resetkeys %R~prefix:* \(channel) +scan +hgetall +psubscribe")
            #expect(
                RedisRouteACL(.readWrite).rules == "resetkeys ~prefix:* \(channel) +scan +hgetall +psubscribe +hget +hset +hdel +hexists +hlen +eval")
            #expect(RedisRouteACL(.readOnly, prefix: "a*b", database: 2).rules.hasPrefix(#"resetkeys %R~a\*b:* resetchannels &__keyspace@2__:a\*b:*"#))
            #expect(RedisRouteACL(.readOnly, database: 2, configuresKeyspaceEvents: true).rules.hasSuffix("+select +config|get +config|set"))
        }

        @Test func theRightCredentialsLetRoutesFlowFromServerToProxy() async throws {
            let redis = try redis(database: 3)
            defer { redis.stop() }
            let server = RedisRouteStore(url: try RedisURL(parsing: redis.url(user: "kiln-server", password: serverPassword) + "/3"))
            try await server.add(route("before"))
            let proxyURL = try RedisURL(parsing: redis.url(user: "kiln-proxy", password: proxyPassword) + "/3")
            let feed = RedisRouteFeed(url: proxyURL)
            try await feed.checkAccess()
            let recorder = ChangeRecorder(feed)
            defer { recorder.cancel() }
            try await recorder.wait("first snapshot") { $0 == .snapshot([route("before")]) }
            // Pushed through the subscriber's authenticated connection, not found by a resync.
            try await server.add(route("after"))
            try await recorder.wait("pushed change") { $0 == .replaced(tool: "after", routes: [route("after")]) }
            #expect(recorder.changes.filter(\.isSnapshot).count == 1)
            await server.close()
        }

        @Test func theProxysUserCannotWriteRoutes() async throws {
            let redis = try redis()
            defer { redis.stop() }
            let proxyURL = try RedisURL(parsing: redis.url(user: "kiln-proxy", password: proxyPassword))
            let asProxy = RedisRouteStore(url: proxyURL)
            let error = await #expect(throws: KilnError.self) { try await asProxy.add(route("forged")) }
            #expect(error?.redisRefusal == .permission)
            #expect(error?.message.contains("NOPERM") == true, "\(String(describing: error))")
            let connection = try await RedisConnection.connect(to: proxyURL)
            for command in [["HSET", "prefix:forged", ".*", "127.0.0.1:1"], ["DEL", "prefix:x"], ["CONFIG", "SET", "notify-keyspace-events", ""]] {
                let refused = await #expect(throws: KilnError.self) { try await connection.send(command) }
                #expect(refused?.redisRefusal == .permission, "\(command[0])")
            }
            // Nor read anything but routes.
            let other = await #expect(throws: KilnError.self) { try await connection.send(["HGETALL", "sessions:1"]) }
            #expect(other?.redisRefusal == .permission)
            await connection.close()
            await asProxy.close()
            #expect(try redis.cli("EXISTS", "prefix:forged") == "0\n")
        }

        @Test func wrongOrMissingCredentialsAreRefusedClearly() async throws {
            let redis = try redis()
            defer { redis.stop() }
            let wrong = try RedisURL(parsing: redis.url(user: "kiln-proxy", password: "not-" + proxyPassword))
            let refused = await #expect(throws: KilnError.self) { try await RedisRouteFeed(url: wrong).checkAccess() }
            #expect(refused?.redisRefusal == .credentials)
            #expect(refused?.message.contains("refused the credentials of user 'kiln-proxy'") == true, "\(String(describing: refused))")
            #expect(refused.map { "\($0) \($0.context)" }?.contains(proxyPassword) == false, "the password is never shown")
            // The subscriber's connection authenticates as well, and fails the same way.
            let subscriber = await #expect(throws: KilnError.self) { try await RedisSubscriber.connect(to: wrong) }
            #expect(subscriber?.redisRefusal == .credentials)
            // No credentials where they are required.
            let anonymous = try RedisURL(parsing: redis.url)
            let missing = await #expect(throws: KilnError.self) { try await RedisRouteFeed(url: anonymous).checkAccess() }
            #expect(missing?.redisRefusal == .authenticationRequired)
            // A server that is not there is not a refusal: the feed waits for it.
            redis.stop()
            let away = await #expect(throws: KilnError.self) {
                try await RedisRouteFeed(url: try RedisURL(parsing: redis.url(user: "kiln-proxy", password: proxyPassword))).checkAccess()
            }
            #expect(away != nil && away?.redisRefusal == nil)
        }

        @Test func aRequirepassServerTakesThePasswordAlone() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            try redis.cli("CONFIG", "SET", "requirepass", serverPassword)
            let url = try RedisURL(parsing: redis.url(user: nil, password: serverPassword))
            let store = RedisRouteStore(url: url)
            try await store.add(route("legacy"))
            #expect(try await store.routes(of: "legacy") == [route("legacy")])
            // Back to no password, so the server stops as every test server does.
            await store.close()
            let admin = try await RedisConnection.connect(to: url)
            _ = try await admin.send(["CONFIG", "SET", "requirepass", ""])
            await admin.close()
        }
    }
}
