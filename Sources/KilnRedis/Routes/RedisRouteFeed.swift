import KilnCore
import Logging
import NIOCore

/// Keeps a proxy's route table current from Redis.
///
/// It subscribes to keyspace notifications of the route hashes (so a bare `HSET` by any client,
/// such as older tooling, is seen), then takes a snapshot, then re-reads each hash that changes.
/// A periodic snapshot is the safety net for what notifications cannot report (FLUSHDB, expired
/// keys, a server without notifications). While Redis is away it emits nothing, so the proxy
/// keeps serving the routes it has; once back, it subscribes again and takes a fresh snapshot.
public struct RedisRouteFeed: Sendable {
    public let url: RedisURL
    public let prefix: String
    /// Between full resyncs; nil chooses by what Redis does (`automaticResyncInterval`).
    public let resyncInterval: Duration?
    public let connectTimeout: Duration
    /// Whether the feed may turn keyspace notifications on (`CONFIG SET`); otherwise it only
    /// checks them and says what the operator must set.
    public let configuresKeyspaceEvents: Bool
    let schema: RedisRouteSchema
    let logger: Logger

    /// Reconnection waits this long after the first failure, doubling up to `maximumBackoff`.
    static let minimumBackoff = Duration.milliseconds(100)
    static let maximumBackoff = Duration.seconds(5)

    public init(
        url: RedisURL, prefix: String = "prefix", resyncInterval: Duration? = nil,
        connectTimeout: Duration = .seconds(2), configuresKeyspaceEvents: Bool = false,
        logger: Logger = Logger(label: "kiln.redis")
    ) {
        self.url = url
        self.prefix = prefix
        self.resyncInterval = resyncInterval
        self.connectTimeout = connectTimeout
        self.configuresKeyspaceEvents = configuresKeyspaceEvents
        self.schema = RedisRouteSchema(prefix: prefix, logger: logger)
        self.logger = logger
    }

    /// The changes: a snapshot first, then replacements and periodic snapshots, until the
    /// consuming task is cancelled (which closes the connections).
    public func updates() -> AsyncStream<RouteChange> {
        let (stream, continuation) = AsyncStream<RouteChange>.makeStream()
        let task = Task { await run(continuation) }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    func run(_ output: AsyncStream<RouteChange>.Continuation) async {
        var backoff = Self.minimumBackoff
        var failures = 0
        while !Task.isCancelled {
            var followed = false
            do {
                try await session(output, followed: &followed)
            } catch {
                if Task.isCancelled { break }
                if followed {
                    backoff = Self.minimumBackoff
                    failures = 0
                    logger.warning(
                        "lost Redis; serving the last known routes until it is back",
                        metadata: ["redis": "\(url)", "error": "\(error)"])
                } else if let refusal = (error as? KilnError)?.redisRefusal {
                    failures += 1
                    // Not an outage: it lasts until the operator changes the credentials or the ACL.
                    if failures == 1 || failures % 12 == 0 {
                        logger.error(
                            "Redis refuses the route feed; retrying",
                            metadata: ["redis": "\(url)", "refusal": "\(refusal.rawValue)", "error": "\(error)", "attempts": "\(failures)"])
                    }
                } else {
                    failures += 1
                    // Loud at first and about once a minute after, not at every attempt.
                    let level: Logger.Level = failures == 1 || failures % 12 == 0 ? .warning : .debug
                    logger.log(
                        level: level, "cannot follow routes in Redis; retrying",
                        metadata: ["redis": "\(url)", "error": "\(error)", "attempts": "\(failures)", "retry_in": "\(backoff)"])
                }
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, Self.maximumBackoff)
        }
        output.finish()
    }

    /// One connected session; it ends only by an error (Redis lost) or by cancellation. Both
    /// connections are closed on the way out, whichever way that is.
    func session(_ output: AsyncStream<RouteChange>.Continuation, followed: inout Bool) async throws {
        let timeout = TimeAmount(connectTimeout)
        let connection = try await RedisConnection.connect(to: url, timeout: timeout)
        let subscriber: RedisSubscriber
        do {
            subscriber = try await RedisSubscriber.connect(to: url, timeout: timeout)
        } catch {
            await connection.close()
            throw error
        }
        do {
            try await follow(connection: connection, subscriber: subscriber, output: output, followed: &followed)
        } catch {
            await subscriber.close()
            await connection.close()
            throw error
        }
        await subscriber.close()
        await connection.close()
    }

    func follow(
        connection: RedisConnection, subscriber: RedisSubscriber, output: AsyncStream<RouteChange>.Continuation,
        followed: inout Bool
    ) async throws {
        let notified = try await keyspaceNotifications(connection) == .on
        // Subscribed first, then the snapshot: a change in between is read twice, never missed.
        try await subscriber.psubscribe([schema.keyspacePattern(database: url.database)])
        let snapshot = try await schema.allRoutes(on: connection)
        output.yield(.snapshot(snapshot))
        followed = true
        logger.info("following routes in Redis", metadata: ["redis": "\(url)", "routes": "\(snapshot.count)"])

        let pending = PendingRouteReads()
        let (schema, database) = (self.schema, url.database)
        let resyncInterval = self.resyncInterval ?? Self.automaticResyncInterval(notified: notified)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in subscriber.messages {
                    if let tool = schema.tool(fromKeyspaceChannel: message.channel, database: database) {
                        pending.changed(tool)
                    }
                }
                throw KilnError(.unavailable, "the Redis subscription ended")
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: resyncInterval)
                    pending.resyncDue()
                }
            }
            // The only writer to `output` from here on, so a re-read never overtakes a snapshot.
            group.addTask {
                for await _ in pending.wakeups {
                    let work = pending.take()
                    if work.resync {
                        output.yield(.snapshot(try await schema.allRoutes(on: connection)))
                    } else if !work.tools.isEmpty {
                        for (tool, routes) in try await schema.routes(of: work.tools, on: connection) {
                            output.yield(.replaced(tool: tool, routes: routes))
                        }
                    }
                }
            }
            // The first to end (an error, or cancellation) ends the session.
            try await group.next()
            group.cancelAll()
        }
    }

    /// While notifications flow, every change is pushed and a lost connection is followed by a
    /// fresh snapshot, so the periodic resync is only a safety net: every 5 minutes, since a full
    /// read of 100,000 tools costs the proxy about a second and a half of CPU. Without them it is
    /// the only way changes arrive: every 30 seconds.
    static func automaticResyncInterval(notified: Bool) -> Duration {
        notified ? .seconds(300) : .seconds(30)
    }
}
