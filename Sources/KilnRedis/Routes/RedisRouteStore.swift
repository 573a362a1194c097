import KilnCore
import Logging

/// Routes in Redis in the seed's (dynamicproxy) schema: one hash `PREFIX:TOOL` per tool whose
/// fields are patterns and values `HOST:PORT`, so that older tooling writing those hashes and
/// Kiln's proxies share one table.
public actor RedisRouteStore {
    public nonisolated let url: RedisURL
    public nonisolated let prefix: String
    let schema: RedisRouteSchema
    private var connection: RedisConnection?
    private var connecting: Task<RedisConnection, any Error>?

    public init(url: RedisURL, prefix: String = "prefix", logger: Logger = Logger(label: "kiln.redis")) {
        self.url = url
        self.prefix = prefix
        self.schema = RedisRouteSchema(prefix: prefix, logger: logger)
    }

    /// Every route of every tool; tools sorted by name, each tool's routes in the hash's order
    /// with catch-alls last.
    public func allRoutes() async throws(KilnError) -> [Route] {
        try await schema.allRoutes(on: connection())
    }

    /// The tools that have a route hash.
    public func toolsWithRoutes() async throws(KilnError) -> [String] {
        try await schema.tools(on: connection())
    }

    public func routes(of tool: String) async throws(KilnError) -> [Route] {
        let reply = try await connection().send(["HGETALL", schema.key(for: tool)])
        return schema.routes(tool: tool, hgetall: reply)
    }

    /// Sets the route's pattern to point at its backend (replacing the backend it had).
    public func add(_ route: Route) async throws(KilnError) {
        _ = try await connection().send(["HSET", schema.key(for: route.tool), route.pattern, route.backend.description])
    }

    /// Removes the route; with `backend`, only if the pattern still points there. Returns whether
    /// a route was removed.
    public func remove(tool: String, pattern: String, backend: HostPort?) async throws(KilnError) -> Bool {
        let key = schema.key(for: tool)
        let connection = try await connection()
        guard let backend else {
            return try await connection.send(["HDEL", key, pattern]).integer == 1
        }
        // Compared as addresses (older tooling may spell them differently), then deleted only if
        // the stored text is still the one compared: a compare-and-delete in one Lua step, so a
        // concurrent re-registration to another backend is never removed.
        guard let stored = try await connection.send(["HGET", key, pattern]).string,
            (try? HostPort(parsing: stored)) == backend
        else { return false }
        let script = """
            if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
                return redis.call('HDEL', KEYS[1], ARGV[1])
            end
            return 0
            """
        return try await connection.send(["EVAL", script, "1", key, pattern, stored]).integer == 1
    }

    public func close() async {
        let connection = self.connection
        self.connection = nil
        await connection?.close()
    }

    /// One connection, made on first use and again after it closed. Concurrent callers share
    /// the attempt in flight rather than each opening their own.
    private func connection() async throws(KilnError) -> RedisConnection {
        if let connection, connection.isActive { return connection }
        let attempt: Task<RedisConnection, any Error>
        if let connecting {
            attempt = connecting
        } else {
            let url = self.url
            attempt = Task { try await RedisConnection.connect(to: url) }
            connecting = attempt
        }
        do {
            let made = try await attempt.value
            if connecting == attempt {
                connecting = nil
                connection = made
            }
            return made
        } catch {
            if connecting == attempt { connecting = nil }
            throw RedisSocket.connectionError(error)
        }
    }
}
