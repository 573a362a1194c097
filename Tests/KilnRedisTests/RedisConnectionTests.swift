import KilnCore
import KilnRedis
import KilnTesting
import Testing

extension RedisServerTests {
    /// The client against a real redis-server started by each test.
    @Suite struct RedisConnectionTests {
        @Test func sendsCommandsAndReadsEveryKindOfReply() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let connection = try await RedisConnection.connect(to: RedisURL(parsing: redis.url))
            #expect(try await connection.send(["PING"]) == .simpleString("PONG"))
            #expect(try await connection.send(["SET", "greeting", "hello world\r\n"]) == .simpleString("OK"))
            #expect(try await connection.send(["GET", "greeting"]) == .bulk("hello world\r\n"))
            #expect(try await connection.send(["GET", "missing"]) == .bulkString(nil))
            #expect(try await connection.send(["INCRBY", "n", "41"]) == .integer(41))
            #expect(try await connection.send(["RPUSH", "list", "a", "b"]) == .integer(2))
            #expect(try await connection.send(["LRANGE", "list", "0", "-1"]) == .array([.bulk("a"), .bulk("b")]))
            #expect(try redis.cli("GET", "greeting") == "hello world\r\n\n")
            await connection.close()
        }

        /// Many tasks share one connection: their commands are pipelined, and each gets its own reply.
        @Test func concurrentCommandsGetTheirOwnReplies() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let connection = try await RedisConnection.connect(to: RedisURL(parsing: redis.url))
            try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for index in 0..<500 {
                    group.addTask { (index, try await connection.send(["ECHO", "reply \(index)"]).string) }
                }
                for try await (index, reply) in group { #expect(reply == "reply \(index)") }
            }
            let replies = try await connection.pipeline((1...100).map { _ in ["INCR", "counter"] } + [["GET", "counter"]])
            #expect(replies == (1...100).map { RESPValue.integer($0) } + [.bulk("100")])
            await connection.close()
        }

        @Test func serverErrorsSurfaceWithTheServersMessage() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let connection = try await RedisConnection.connect(to: RedisURL(parsing: redis.url))
            let unknown = await #expect(throws: KilnError.self) { try await connection.send(["NOSUCHCOMMAND", "x"]) }
            #expect(unknown?.message.contains("unknown command") == true, "\(String(describing: unknown))")
            #expect(unknown?.context["redis_error"]?.hasPrefix("ERR") == true)
            _ = try await connection.send(["SET", "s", "v"])
            let wrongType = await #expect(throws: KilnError.self) { try await connection.send(["HGETALL", "s"]) }
            #expect(wrongType?.message.contains("WRONGTYPE") == true)
            // In a pipeline, an error reply is one value among the others.
            let replies = try await connection.pipeline([["HGETALL", "s"], ["GET", "s"]])
            #expect(replies[0].errorMessage?.hasPrefix("WRONGTYPE") == true)
            #expect(replies[1] == .bulk("v"))
            // The connection is still in step after errors.
            #expect(try await connection.send(["PING"]) == .simpleString("PONG"))
            await connection.close()
        }

        @Test func theURLsDatabaseIsSelected() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let connection = try await RedisConnection.connect(to: RedisURL(parsing: redis.url + "/3"))
            _ = try await connection.send(["SET", "where", "three"])
            #expect(try redis.cli("-n", "3", "GET", "where") == "three\n")
            #expect(try redis.cli("-n", "0", "EXISTS", "where") == "0\n")
            await connection.close()
        }

        @Test func connectingToNothingFailsPromptly() async throws {
            let port = freeLoopbackPort()
            let start = ContinuousClock.now
            let error = await #expect(throws: KilnError.self) {
                try await RedisConnection.connect(to: RedisURL(host: "127.0.0.1", port: port))
            }
            #expect(error?.code == .unavailable)
            #expect(ContinuousClock.now - start < .seconds(2))
        }

        /// After the server is gone, commands fail at once instead of waiting for a reply.
        @Test func aLostServerFailsCommandsAtOnce() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let connection = try await RedisConnection.connect(to: RedisURL(parsing: redis.url))
            // Blocks on an empty list: the reply cannot come before the kill.
            let blocked = Task { try await connection.send(["BLPOP", "nothing", "5"], timeout: .seconds(10)) }
            try await Task.sleep(for: .milliseconds(50))
            let start = ContinuousClock.now
            redis.kill()
            await #expect(throws: KilnError.self) { try await blocked.value }
            #expect(ContinuousClock.now - start < .seconds(1))
            await #expect(throws: KilnError.self) { try await connection.send(["PING"]) }
            #expect(!connection.isActive)
        }

        @Test func aCommandWaitsNoLongerThanItsTimeout() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let connection = try await RedisConnection.connect(to: RedisURL(parsing: redis.url))
            let start = ContinuousClock.now
            let error = await #expect(throws: KilnError.self) {
                try await connection.send(["BLPOP", "nothing", "1"], timeout: .milliseconds(100))
            }
            #expect(error?.message.contains("did not answer") == true)
            #expect(ContinuousClock.now - start < .milliseconds(900))
            #expect(!connection.isActive)
        }

        @Test func aSubscriberReceivesWhatIsPublishedOnItsPatterns() async throws {
            let redis = try RedisServer()
            defer { redis.stop() }
            let url = try RedisURL(parsing: redis.url)
            let subscriber = try await RedisSubscriber.connect(to: url)
            try await subscriber.psubscribe(["news.*", "alerts"])
            let publisher = try await RedisConnection.connect(to: url)
            #expect(try await publisher.send(["PUBLISH", "sports", "not for us"]) == .integer(0))
            #expect(try await publisher.send(["PUBLISH", "news.local", "first"]) == .integer(1))
            #expect(try await publisher.send(["PUBLISH", "alerts", "second"]) == .integer(1))
            var messages = subscriber.messages.makeAsyncIterator()
            let first = await messages.next()
            #expect(first?.channel == "news.local" && first?.message == "first")
            let second = await messages.next()
            #expect(second?.channel == "alerts" && second?.message == "second")
            // The stream ends when the server goes away.
            redis.kill()
            #expect(await messages.next() == nil)
            await publisher.close()
        }
    }
}
