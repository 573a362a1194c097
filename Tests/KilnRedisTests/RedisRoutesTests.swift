import Foundation
import KilnCore
import KilnRedis
import KilnTesting
import Logging
import Testing

/// Against a real redis-server started by the test.
@Suite struct RedisRoutesTests {
    let backend = HostPort(host: "127.0.0.1", port: 9000)

    @Test func commandsArePipelinedAndErrorsSurface() async throws {
        let redis = try RedisServer()
        let connection = try await RedisConnection.connect(to: try RedisURL(parsing: redis.url))
        async let first = connection.send(["SET", "k", "v"])
        async let second = connection.send(["GET", "k"])
        async let third = connection.send(["INCR", "n"])
        #expect(try await first == .simpleString("OK"))
        #expect(try await second.string == "v")
        #expect(try await third == .integer(1))
        await #expect(throws: KilnError.self) { try await connection.send(["NOSUCHCOMMAND"]) }
        #expect(try await connection.send(["PING"]) == .simpleString("PONG"))
        let replies = try await connection.pipeline([["SET", "a", "1"], ["GET", "a"], ["INCR", "a"]])
        #expect(replies == [.simpleString("OK"), .bulkString(.init(string: "1")), .integer(2)])
        await connection.close()
    }

    @Test func theStoreUsesTheSeedSchema() async throws {
        let redis = try RedisServer()
        let store = RedisRouteStore(url: try RedisURL(parsing: redis.url))
        try await store.add(Route(tool: "t", pattern: ".*", backend: backend))
        try await store.add(Route(tool: "t", pattern: "^/api", backend: HostPort(host: "127.0.0.1", port: 9001)))
        #expect(try redis.cli("HGET", "prefix:t", ".*") == "127.0.0.1:9000\n")
        #expect(try await store.routes(of: "t").map(\.pattern) == ["^/api", ".*"])
        #expect(try await store.allRoutes().count == 2)
        #expect(try await store.remove(tool: "t", pattern: ".*", backend: HostPort(host: "127.0.0.1", port: 1)) == false)
        #expect(try await store.remove(tool: "t", pattern: ".*", backend: backend) == true)
        #expect(try await store.remove(tool: "t", pattern: "^/api", backend: nil) == true)
        #expect(try await store.allRoutes().isEmpty)
    }

    @Test func aBareHSETByAnotherClientIsPushed() async throws {
        let redis = try RedisServer()
        try redis.cli("HSET", "prefix:old", ".*", "127.0.0.1:8000")
        let feed = RedisRouteFeed(url: try RedisURL(parsing: redis.url), logger: Logger(label: "test"))
        var changes = feed.updates().makeAsyncIterator()
        #expect(await changes.next() == .snapshot([Route(tool: "old", pattern: ".*", backend: HostPort(host: "127.0.0.1", port: 8000))]))

        let start = ContinuousClock.now
        try redis.cli("HSET", "prefix:new", ".*", "127.0.0.1:9000")
        let pushed = await changes.next()
        let latency = ContinuousClock.now - start
        #expect(pushed == .replaced(tool: "new", routes: [Route(tool: "new", pattern: ".*", backend: backend)]))
        print("Redis push latency (redis-cli HSET to route change, including redis-cli's own start): \(latency)")
        #expect(latency < .seconds(1))

        try redis.cli("DEL", "prefix:new")
        #expect(await changes.next() == .replaced(tool: "new", routes: []))
    }

    @Test func whileRedisIsAwayNothingIsEmittedAndAReconnectResyncs() async throws {
        let redis = try RedisServer()
        try redis.cli("HSET", "prefix:kept", ".*", "127.0.0.1:9000")
        let feed = RedisRouteFeed(url: try RedisURL(parsing: redis.url), logger: Logger(label: "test"))
        let received = Received()
        let consumer = Task {
            for await change in feed.updates() { received.append(change) }
        }
        defer { consumer.cancel() }
        try await received.waitFor { $0.count == 1 }
        #expect(received.all == [.snapshot([Route(tool: "kept", pattern: ".*", backend: backend)])])
        redis.kill()
        // Nothing may come while it is down: no empty snapshot that would wipe the proxy's routes.
        try await Task.sleep(for: .seconds(1))
        #expect(received.all.count == 1, "emitted \(received.all.dropFirst()) while Redis was down")
        try redis.start()
        try redis.cli("HSET", "prefix:after", ".*", "127.0.0.1:9000")
        // Reconnection backs off up to 5 s between attempts.
        try await received.waitFor(timeout: .seconds(30)) { changes in
            changes.contains { change in
                if case .snapshot(let routes) = change { return routes.contains { $0.tool == "after" } }
                return false
            }
        }
    }
}

final class Received: @unchecked Sendable {
    private let lock = NSLock()
    private var changes: [RouteChange] = []

    func append(_ change: RouteChange) { lock.withLock { changes.append(change) } }
    var all: [RouteChange] { lock.withLock { changes } }

    func waitFor(timeout: Duration = .seconds(5), _ condition: ([RouteChange]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(all) {
            guard ContinuousClock.now < deadline else { throw TestFailure("timed out; received \(all)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
