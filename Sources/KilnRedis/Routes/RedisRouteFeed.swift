import KilnCore
import Logging

/// Keeps a proxy's routes current from Redis: subscribes to keyspace notifications for the route
/// hashes (so a bare `HSET` by any client is seen), takes a snapshot, then re-reads each hash that
/// changes. A periodic snapshot is the safety net; while Redis is away it emits nothing, so the
/// proxy keeps the routes it has, and on reconnecting it takes a fresh snapshot.
public struct RedisRouteFeed: Sendable {
    public let url: RedisURL
    public let prefix: String
    public let resyncInterval: Duration
    let logger: Logger

    public init(url: RedisURL, prefix: String = "prefix", resyncInterval: Duration = .seconds(30), logger: Logger) {
        self.url = url
        self.prefix = prefix
        self.resyncInterval = resyncInterval
        self.logger = logger
    }

    /// The changes, until the consuming task is cancelled.
    public func updates() -> AsyncStream<RouteChange> {
        let (stream, continuation) = AsyncStream<RouteChange>.makeStream()
        let task = Task { await run(continuation) }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    func run(_ output: AsyncStream<RouteChange>.Continuation) async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                try await session(output)
                backoff = .milliseconds(100)
            } catch {
                if Task.isCancelled { break }
                logger.warning("Redis route feed interrupted; keeping the last routes", metadata: ["error": "\(error)", "retry": "\(backoff)"])
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
        output.finish()
    }

    /// One connected session: returns or throws when the connection is lost.
    func session(_ output: AsyncStream<RouteChange>.Continuation) async throws {
        let store = RedisRouteStore(url: url, prefix: prefix, logger: logger)
        let control = try await RedisConnection.connect(to: url)
        defer { Task { await control.close() } }
        try await enableKeyspaceNotifications(control)
        let subscriber = try await RedisConnection.connect(to: RedisURL(host: url.host, port: url.port), subscriber: true)
        let channelPrefix = "__keyspace@\(url.database)__:\(prefix):"
        _ = try await subscriber.send(["PSUBSCRIBE", channelPrefix + "*"])
        // Subscribed first, then the snapshot: a change between the two is seen twice, never lost.
        output.yield(.snapshot(try await store.allRoutes()))
        logger.info("Redis route feed connected", metadata: ["redis": "\(url)"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in subscriber.pushes {
                    guard let items = message.array, items.count == 4, let channel = items[2].string,
                        channel.hasPrefix(channelPrefix)
                    else { continue }
                    let tool = String(channel.dropFirst(channelPrefix.count))
                    output.yield(.replaced(tool: tool, routes: try await store.routes(of: tool)))
                }
                throw KilnError(.unavailable, "the Redis subscription ended")
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: resyncInterval)
                    output.yield(.snapshot(try await store.allRoutes()))
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
        await subscriber.close()
    }

    /// Keyspace events for hashes (h) and generic commands such as DEL (g) on keyspace channels
    /// (K); flags already set by someone else are kept.
    func enableKeyspaceNotifications(_ connection: RedisConnection) async throws(KilnError) {
        let reply = try await connection.send(["CONFIG", "GET", "notify-keyspace-events"])
        let current = reply.array?.last?.string ?? ""
        var flags = current
        let hasAll = current.contains("A")
        for flag in ["K", "h", "g"] where !flags.contains(flag) && !(hasAll && flag != "K") { flags += flag }
        if flags != current { _ = try await connection.send(["CONFIG", "SET", "notify-keyspace-events", flags]) }
    }
}
