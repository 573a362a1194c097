import KilnCore
import KilnTesting
import Logging
import Testing

@testable import KilnRedis

extension RedisServerTests {
    @Suite struct RedisRouteStoreTests {
        let backend = HostPort(host: "127.0.0.1", port: 9000)
        let other = HostPort(host: "127.0.0.1", port: 9001)

        @Test func routesAreHashesInTheSeedsSchema() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let store = RedisRouteStore(url: try RedisURL(parsing: redis.url))
            try await store.add(Route(tool: "t", pattern: ".*", backend: backend))
            try await store.add(Route(tool: "t", pattern: "^/api", backend: other))
            try await store.add(Route(tool: "u", pattern: ".*", backend: other))
            // What older tooling reads and writes.
            #expect(try redis.cli("HGET", "prefix:t", ".*") == "127.0.0.1:9000\n")
            #expect(try redis.cli("HGET", "prefix:t", "^/api") == "127.0.0.1:9001\n")
            // Catch-alls last, whatever order the hash has.
            #expect(try await store.routes(of: "t").map(\.pattern) == ["^/api", ".*"])
            #expect(try await store.routes(of: "none") == [])
            #expect(try await store.toolsWithRoutes() == ["t", "u"])
            #expect(
                try await store.allRoutes() == [
                    Route(tool: "t", pattern: "^/api", backend: other), Route(tool: "t", pattern: ".*", backend: backend),
                    Route(tool: "u", pattern: ".*", backend: other),
                ])
            // Adding an existing pattern adds a backend to it; replacing leaves only the new one.
            try await store.add(Route(tool: "u", pattern: ".*", backend: backend))
            #expect(try await store.routes(of: "u").map(\.backend) == [other, backend])
            try await store.replace(Route(tool: "u", pattern: ".*", backend: backend))
            #expect(try await store.routes(of: "u") == [Route(tool: "u", pattern: ".*", backend: backend)])
            #expect(try redis.cli("HGET", "prefix:u", ".*") == "127.0.0.1:9000\n")
            await store.close()
        }

        /// The 101st field of a tool's hash is refused by the script that writes it, by add and
        /// by replace alike; existing fields still take backends.
        @Test func aToolsHashTakesAtMostTheLimitOfPatterns() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let store = RedisRouteStore(url: try RedisURL(parsing: redis.url))
            for index in 0..<RouteLimits.patternsPerTool {
                try await store.add(Route(tool: "t", pattern: "^/p\(index)/", backend: backend))
            }
            let added = await #expect(throws: KilnError.self) {
                try await store.add(Route(tool: "t", pattern: "^/extra/", backend: backend))
            }
            #expect(added?.code == .quotaExceeded)
            #expect(added?.context["field"] == "pattern")
            let replaced = await #expect(throws: KilnError.self) {
                try await store.replace(Route(tool: "t", pattern: "^/extra/", backend: backend))
            }
            #expect(replaced?.code == .quotaExceeded)
            #expect(try redis.cli("HLEN", "prefix:t") == "100\n")
            try await store.add(Route(tool: "t", pattern: "^/p0/", backend: other))
            try await store.replace(Route(tool: "t", pattern: "^/p1/", backend: other))
            #expect(try redis.cli("HGET", "prefix:t", "^/p0/") == "127.0.0.1:9000 127.0.0.1:9001\n")
            #expect(try redis.cli("HGET", "prefix:t", "^/p1/") == "127.0.0.1:9001\n")
            // Room again once one goes.
            #expect(try await store.remove(tool: "t", pattern: "^/p2/", backend: nil))
            try await store.add(Route(tool: "t", pattern: "^/extra/", backend: backend))
            await store.close()
        }

        @Test func removalWithABackendOnlyRemovesARouteStillPointingThere() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let store = RedisRouteStore(url: try RedisURL(parsing: redis.url))
            try await store.add(Route(tool: "t", pattern: ".*", backend: backend))
            try await store.add(Route(tool: "t", pattern: "^/api", backend: other))
            #expect(try await store.remove(tool: "t", pattern: ".*", backend: other) == false)
            #expect(try await store.routes(of: "t").count == 2, "a route of another backend was removed")
            #expect(try await store.remove(tool: "t", pattern: ".*", backend: backend) == true)
            #expect(try await store.remove(tool: "t", pattern: ".*", backend: backend) == false)
            #expect(try await store.remove(tool: "t", pattern: "^/nothing", backend: nil) == false)
            #expect(try await store.remove(tool: "t", pattern: "^/api", backend: nil) == true)
            #expect(try await store.allRoutes().isEmpty)
            // Redis drops an empty hash: nothing of the tool is left.
            #expect(try redis.cli("EXISTS", "prefix:t") == "0\n")
            // An address written differently by older tooling still counts as the same backend.
            try redis.cli("HSET", "prefix:old", ".*", "127.0.0.1:08000")
            #expect(try await store.remove(tool: "old", pattern: ".*", backend: HostPort(host: "127.0.0.1", port: 8000)) == true)
            await store.close()
        }

        @Test func aPatternsBackendsShareItsFieldSeparatedBySpaces() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let store = RedisRouteStore(url: try RedisURL(parsing: redis.url))
            let third = HostPort(host: "127.0.0.1", port: 9002)
            for member in [backend, other, third, other] { try await store.add(Route(tool: "t", pattern: ".*", backend: member)) }
            #expect(try redis.cli("HGET", "prefix:t", ".*") == "127.0.0.1:9000 127.0.0.1:9001 127.0.0.1:9002\n")
            #expect(try await store.routes(of: "t").map(\.backend) == [backend, other, third])

            #expect(try await store.remove(tool: "t", pattern: ".*", backend: other) == true)
            #expect(try await store.remove(tool: "t", pattern: ".*", backend: other) == false)
            #expect(try redis.cli("HGET", "prefix:t", ".*") == "127.0.0.1:9000 127.0.0.1:9002\n")
            #expect(try await store.remove(tool: "t", pattern: ".*", backend: backend) == true)
            // Down to one backend: exactly the seed's format again.
            #expect(try redis.cli("HGET", "prefix:t", ".*") == "127.0.0.1:9002\n")
            #expect(try await store.remove(tool: "t", pattern: ".*", backend: third) == true)
            #expect(try redis.cli("HEXISTS", "prefix:t", ".*") == "0\n", "the field goes with its last backend")

            // Whatever whitespace older tooling used, and however it spelled an address.
            try redis.cli("HSET", "prefix:old", ".*", " 127.0.0.1:9000\t127.0.0.1:09001  junk ")
            #expect(try await store.routes(of: "old").map(\.backend) == [backend, other])
            #expect(try await store.remove(tool: "old", pattern: ".*", backend: other) == true)
            #expect(try redis.cli("HGET", "prefix:old", ".*") == "127.0.0.1:9000 junk\n")
            #expect(try await store.remove(tool: "old", pattern: ".*", backend: backend) == true)
            #expect(try redis.cli("HEXISTS", "prefix:old", ".*") == "0\n", "no usable backend is left")
            await store.close()
        }

        /// Each store has its own connection: concurrent edits of one field race in Redis, and
        /// none may be lost.
        @Test func concurrentAddsAndRemovesOfOneFieldAreAtomic() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let url = try RedisURL(parsing: redis.url)
            let ports = Array(10_000..<10_024)
            let stores = ports.map { _ in RedisRouteStore(url: url) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (store, port) in zip(stores, ports) {
                    group.addTask { try await store.add(Route(tool: "t", pattern: ".*", backend: HostPort(host: "127.0.0.1", port: port))) }
                }
                try await group.waitForAll()
            }
            let reader = RedisRouteStore(url: url)
            #expect(Set(try await reader.routes(of: "t").map(\.backend.port)) == Set(ports))
            let removed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (store, port) in zip(stores, ports) where port % 2 == 0 {
                    group.addTask { try await store.remove(tool: "t", pattern: ".*", backend: HostPort(host: "127.0.0.1", port: port)) }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(removed.count == ports.count / 2 && removed.allSatisfy { $0 })
            #expect(Set(try await reader.routes(of: "t").map(\.backend.port)) == Set(ports.filter { $0 % 2 == 1 }))
            for store in stores { await store.close() }
            await reader.close()
        }

        @Test func fieldValuesAddAndRemoveBackendsByAddress() {
            var field = RouteFieldValue(nil)
            #expect(field.text == "")
            let added = field.add(backend)
            #expect(added)
            #expect(field.text == "127.0.0.1:9000")
            let again = field.add(HostPort(host: "127.0.0.1", port: 9000))
            #expect(!again)
            field.add(other)
            #expect(field.text == "127.0.0.1:9000 127.0.0.1:9001")
            var spelled = RouteFieldValue("127.0.0.1:09000 bad 127.0.0.1:9000")
            #expect(spelled.backends == [backend])
            #expect(spelled.invalidWords == ["bad"])
            let addedSpelled = spelled.add(backend)
            #expect(!addedSpelled)
            let removed = spelled.remove(backend)
            #expect(removed)
            #expect(spelled.text == "", "only a word that is no backend is left")
        }

        /// Whatever older tooling left in Redis, one bad entry costs only itself.
        @Test func badValuesAndForeignKeysAreSkipped() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            try redis.cli("HSET", "prefix:t", "^/bad", "not-an-address", "^/ok", "127.0.0.1:9001", ".*", "127.0.0.1:9000")
            try redis.cli("SET", "prefix:string", "not a hash")
            try redis.cli("HSET", "other:t", ".*", "127.0.0.1:1")
            try redis.cli("HSET", "prefixed:t", ".*", "127.0.0.1:2")
            let store = RedisRouteStore(url: try RedisURL(parsing: redis.url))
            #expect(
                try await store.allRoutes() == [
                    Route(tool: "t", pattern: "^/ok", backend: other), Route(tool: "t", pattern: ".*", backend: backend),
                ])
            await store.close()
        }

        @Test func thePrefixIsConfigurableAndTakenLiterally() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let url = try RedisURL(parsing: redis.url)
            try redis.cli("HSET", "aXb:t", ".*", "127.0.0.1:1")
            let store = RedisRouteStore(url: url, prefix: "a*b")
            try await store.add(Route(tool: "t", pattern: ".*", backend: backend))
            #expect(try redis.cli("HGET", "a*b:t", ".*") == "127.0.0.1:9000\n")
            // `*` in the prefix is not a glob: aXb:t is not ours.
            #expect(try await store.allRoutes() == [Route(tool: "t", pattern: ".*", backend: backend)])
            #expect(try await RedisRouteStore(url: url).allRoutes() == [])
        }

        /// Many tools: the full read goes in pipelined batches and misses none.
        @Test func aFullReadCoversManyTools() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let url = try RedisURL(parsing: redis.url)
            let writer = try await RedisConnection.connect(to: url)
            let count = RedisRouteSchema.batchSize * 2 + 500
            _ = try await writer.pipeline((0..<count).map { ["HSET", "prefix:tool\($0)", ".*", "127.0.0.1:\(1000 + $0)"] })
            let store = RedisRouteStore(url: url)
            let routes = try await store.allRoutes()
            #expect(routes.count == count)
            #expect(Set(routes.map(\.tool)).count == count)
            #expect(routes.allSatisfy { $0.backend.port == 1000 + Int($0.tool.dropFirst(4))! })
            await writer.close()
        }

        @Test func theStoreReconnectsAfterRedisCameBack() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let store = RedisRouteStore(url: try RedisURL(parsing: redis.url))
            try await store.add(Route(tool: "t", pattern: ".*", backend: backend))
            redis.kill()
            await #expect(throws: KilnError.self) { try await store.allRoutes() }
            try redis.start()
            try await store.add(Route(tool: "t", pattern: ".*", backend: backend))
            #expect(try await store.routes(of: "t").count == 1)
        }

        @Test func hashFieldsBecomeRoutesWithCatchAllsLast() {
            let schema = RedisRouteSchema(prefix: "prefix", logger: Logger(label: "test"))
            let reply = RESPValue.array([
                .bulk(".*"), .bulk("127.0.0.1:1"), .bulk("^/api"), .bulk("127.0.0.1:2"), .bulk("^/bad"), .bulk("nope"),
                .bulk("^/b"), .bulk("[::1]:3"), .bulk("^.*$"), .bulk("127.0.0.1:4"), .bulk("^/many"), .bulk("127.0.0.1:5 [::1]:6"),
            ])
            let routes = schema.routes(tool: "t", hgetall: reply)
            #expect(routes.map(\.pattern) == ["^/api", "^/b", "^/many", "^/many", ".*", "^.*$"])
            #expect(routes[3].backend == HostPort(host: "::1", port: 6))
            #expect(schema.routes(tool: "t", hgetall: .error("WRONGTYPE")) == [])
            #expect(schema.tool(fromKeyspaceChannel: "__keyspace@0__:prefix:a:b", database: 0) == "a:b")
            #expect(schema.tool(fromKeyspaceChannel: "__keyspace@1__:prefix:a", database: 0) == nil)
            #expect(schema.tool(fromKeyspaceChannel: "__keyspace@0__:prefix:", database: 0) == nil)
            #expect(RedisRouteSchema.globEscaped("a*b?[c]\\") == "a\\*b\\?\\[c\\]\\\\")
        }
    }
}
