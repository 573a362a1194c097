import KilnCore
import KilnTesting
import Testing

@testable import KilnRedis

extension RedisServerTests {
    /// The route feed against a real redis-server.
    @Suite struct RedisRouteFeedTests {
        func route(_ tool: String, _ pattern: String = ".*", port: Int = 9000) -> Route {
            Route(tool: tool, pattern: pattern, backend: HostPort(host: "127.0.0.1", port: port))
        }

        @Test func aSnapshotFirstThenABareHSETByAnotherClientIsPushedAtOnce() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let url = try RedisURL(parsing: redis.url)
            try redis.cli("HSET", "prefix:old", ".*", "127.0.0.1:8000")
            let recorder = ChangeRecorder(RedisRouteFeed(url: url))
            defer { recorder.cancel() }
            try await recorder.wait("first snapshot")
            #expect(recorder.changes == [.snapshot([route("old", port: 8000)])])

            // Older tooling: its own plain connection and a bare HSET, nothing else.
            let writer = try await RedisConnection.connect(to: url)
            var latencies: [Duration] = []
            for round in 0..<5 {
                let seen = recorder.all.count
                let expected = RouteChange.replaced(tool: "new", routes: [route("new", port: 9000 + round)])
                let start = ContinuousClock.now
                _ = try await writer.send(["HSET", "prefix:new", ".*", "127.0.0.1:\(9000 + round)"])
                let arrival = try await recorder.wait(from: seen, "pushed HSET") { $0 == expected }
                latencies.append(arrival.at - start)
            }
            let median = latencies.sorted()[latencies.count / 2]
            print("Redis route push latency, HSET sent to route change received: median \(median), all \(latencies)")
            #expect(median < .milliseconds(100))
            let snapshots = recorder.changes.filter(\.isSnapshot).count
            #expect(snapshots == 1, "a change came as a snapshot, not a push")

            // The key deleted: the tool has no routes any more.
            let seen = recorder.all.count
            _ = try await writer.send(["DEL", "prefix:new"])
            try await recorder.wait(from: seen, "emptied routes") { $0 == .replaced(tool: "new", routes: []) }
            #expect(recorder.table.routes(of: "new").isEmpty)
            #expect(recorder.table.routes(of: "old") == [route("old", port: 8000)])
            await writer.close()
        }

        /// Removing the last field drops the key too; and the routes of a tool arrive whole.
        @Test func everyChangeToAHashReplacesTheToolsRoutes() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let url = try RedisURL(parsing: redis.url)
            let recorder = ChangeRecorder(RedisRouteFeed(url: url))
            defer { recorder.cancel() }
            try await recorder.wait("first snapshot") { $0 == .snapshot([]) }
            try redis.cli("HSET", "prefix:t", ".*", "127.0.0.1:9000", "^/api", "127.0.0.1:9001")
            let both = [route("t", "^/api", port: 9001), route("t")]
            try await recorder.wait("both routes") { $0 == .replaced(tool: "t", routes: both) }
            try redis.cli("HDEL", "prefix:t", "^/api")
            try await recorder.wait("one route") { $0 == .replaced(tool: "t", routes: [route("t")]) }
            try redis.cli("HDEL", "prefix:t", ".*")
            try await recorder.wait("no route") { $0 == .replaced(tool: "t", routes: []) }
            try redis.cli("HSET", "prefix:a", ".*", "127.0.0.1:9000")
            try redis.cli("RENAME", "prefix:a", "prefix:b")
            try await eventually("renamed") {
                recorder.table.routes(of: "b") == [route("b")] && recorder.table.routes(of: "a").isEmpty
            }
        }

        /// Hundreds of writes in a burst (re-reads are coalesced): the table ends exactly right.
        @Test func aBurstOfWritesEndsInTheRightTable() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let url = try RedisURL(parsing: redis.url)
            let recorder = ChangeRecorder(RedisRouteFeed(url: url))
            defer { recorder.cancel() }
            try await recorder.wait("first snapshot")
            let writer = try await RedisConnection.connect(to: url)
            let commands = (0..<300).map { ["HSET", "prefix:tool\($0 % 7)", "^/p\($0)", "127.0.0.1:\(10_000 + $0)"] }
            _ = try await writer.pipeline(commands)
            _ = try await writer.send(["DEL", "prefix:tool3"])
            try await eventually("all bursts applied") {
                let table = recorder.table
                return (0..<7).allSatisfy { table.routes(of: "tool\($0)").count == ($0 == 3 ? 0 : (300 - $0 + 6) / 7) }
            }
            print("burst of 301 writes: \(recorder.all.count - 1) route changes emitted")
            await writer.close()
        }

        @Test func whileRedisIsDownNothingIsEmittedAndARestartBringsAFreshSnapshot() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            try redis.cli("HSET", "prefix:kept", ".*", "127.0.0.1:9000")
            // A short resync period: a resync attempted while Redis is down must not emit either.
            let feed = RedisRouteFeed(url: try RedisURL(parsing: redis.url), resyncInterval: .milliseconds(200))
            let recorder = ChangeRecorder(feed)
            defer { recorder.cancel() }
            try await recorder.wait("first snapshot")
            #expect(recorder.changes.allSatisfy { $0 == .snapshot([route("kept")]) })

            redis.kill()
            let atKill = recorder.all.count
            // Several resync periods and reconnection attempts (after 100, 200, 400 ms).
            try await Task.sleep(for: .seconds(1))
            #expect(recorder.all.count == atKill, "emitted while Redis was down: \(recorder.changes.dropFirst(atKill))")
            #expect(recorder.table.routes(of: "kept") == [route("kept")], "the last known routes were dropped")

            // Nothing was persisted: the restarted Redis is empty until the tooling writes again.
            try redis.restart()
            let restarted = ContinuousClock.now
            try redis.cli("HSET", "prefix:kept", ".*", "127.0.0.1:9000")
            try redis.cli("HSET", "prefix:after", ".*", "127.0.0.1:9001")
            let fresh = try await recorder.wait(from: atKill, timeout: .seconds(10), "snapshot after the restart") {
                $0.isSnapshot
            }
            print("route feed resubscribed and took a snapshot \(fresh.at - restarted) after Redis restarted")
            try await eventually("routes written after the restart") {
                let table = recorder.table
                return table.routes(of: "kept") == [route("kept")] && table.routes(of: "after") == [route("after", port: 9001)]
            }
            // Following again.
            try redis.cli("HSET", "prefix:pushed", ".*", "127.0.0.1:9002")
            try await eventually("a write after the restart") {
                recorder.table.routes(of: "pushed") == [route("pushed", port: 9002)]
            }
        }

        /// FLUSHDB sends no keyspace notification: the periodic resync is what catches it.
        @Test func thePeriodicResyncCatchesWhatNotificationsMiss() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            try redis.cli("HSET", "prefix:t", ".*", "127.0.0.1:9000")
            let feed = RedisRouteFeed(url: try RedisURL(parsing: redis.url), resyncInterval: .milliseconds(300))
            let recorder = ChangeRecorder(feed)
            defer { recorder.cancel() }
            try await recorder.wait("first snapshot")
            try redis.cli("FLUSHDB")
            let start = ContinuousClock.now
            let resync = try await recorder.wait(from: 1, timeout: .seconds(3), "resync") { $0 == .snapshot([]) }
            #expect(resync.at - start < .seconds(1))
        }

        @Test func aFeedFollowsOnlyItsDatabaseAndPrefix() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let recorder = ChangeRecorder(RedisRouteFeed(url: try RedisURL(parsing: redis.url + "/2"), prefix: "proxy"))
            defer { recorder.cancel() }
            try await recorder.wait("first snapshot")
            try redis.cli("-n", "0", "HSET", "proxy:elsewhere", ".*", "127.0.0.1:1")
            try redis.cli("-n", "2", "HSET", "prefix:other", ".*", "127.0.0.1:2")
            try redis.cli("-n", "2", "HSET", "proxy:mine", ".*", "127.0.0.1:9000")
            try await recorder.wait("own change") { $0 == .replaced(tool: "mine", routes: [route("mine")]) }
            #expect(recorder.changes == [.snapshot([]), .replaced(tool: "mine", routes: [route("mine")])])
        }

        @Test func keyspaceNotificationsAreLeftAsTheyAreUnlessTheFeedMayConfigure() async throws {
            let redis = try RedisServer(keyspaceEvents: "Ex")
            defer { redis.stop() }
            let url = try RedisURL(parsing: redis.url)
            let feed = RedisRouteFeed(url: url, resyncInterval: .milliseconds(300))
            let connection = try await RedisConnection.connect(to: url)
            #expect(try await feed.keyspaceNotifications(connection) == .off(current: "xE"))
            await connection.close()
            // Without notifications the resync still brings changes.
            let recorder = ChangeRecorder(feed)
            defer { recorder.cancel() }
            try await recorder.wait("first snapshot")
            try redis.cli("HSET", "prefix:late", ".*", "127.0.0.1:9000")
            try await recorder.wait(timeout: .seconds(3), "resync") { $0 == .snapshot([route("late")]) }
            #expect(try redis.cli("CONFIG", "GET", "notify-keyspace-events") == "notify-keyspace-events\nxE\n")
        }

        @Test func keyspaceNotificationsAreTurnedOnKeepingOtherFlags() async throws {
            let redis = try RedisServer(keyspaceEvents: "Ex")
            defer { redis.stop() }
            let recorder = ChangeRecorder(RedisRouteFeed(url: try RedisURL(parsing: redis.url), configuresKeyspaceEvents: true))
            defer { recorder.cancel() }
            try await recorder.wait("first snapshot")
            let flags = try redis.cli("CONFIG", "GET", "notify-keyspace-events").split(separator: "\n").last ?? ""
            #expect(Set("ExKgh").isSubset(of: Set(flags)), "flags now: \(flags)")

            #expect(RedisRouteFeed.keyspaceFlags(adding: "") == "Kgh")
            #expect(RedisRouteFeed.keyspaceFlags(adding: "Ex") == "ExKgh")
            #expect(RedisRouteFeed.keyspaceFlags(adding: "Kh") == "Khg")
            #expect(RedisRouteFeed.keyspaceFlags(adding: "KA") == nil)
            #expect(RedisRouteFeed.keyspaceFlags(adding: "AKE") == nil)
            #expect(RedisRouteFeed.keyspaceFlags(adding: "gKh") == nil)
        }

        @Test func cancellingTheConsumerClosesTheConnections() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let url = try RedisURL(parsing: redis.url)
            let observer = try await RedisConnection.connect(to: url)
            func clients() async throws -> Int {
                try await observer.send(["CLIENT", "LIST"]).string?.split(separator: "\n").count ?? 0
            }
            #expect(try await clients() == 1)
            let recorder = ChangeRecorder(RedisRouteFeed(url: url))
            try await recorder.wait("first snapshot")
            #expect(try await clients() == 3, "a command connection and a subscriber")
            recorder.cancel()
            try await eventually("the feed's connections closed", timeout: .seconds(2)) { try await clients() == 1 }
            await observer.close()
        }
    }
}
