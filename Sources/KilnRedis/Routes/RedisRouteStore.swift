import KilnCore
import Logging

/// Routes in Redis in the seed's (dynamicproxy) schema: one hash `PREFIX:TOOL` per tool whose
/// fields are patterns and values `HOST:PORT` (several backends of a pattern separated by
/// spaces), so that older tooling writing those hashes and Kiln's proxies share one table.
public actor RedisRouteStore {
    public nonisolated let url: RedisURL
    public nonisolated let prefix: String
    let schema: RedisRouteSchema
    private var open: RedisConnection?
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

    /// Adds the route's backend to its pattern's (a new pattern gets a field of its own). The
    /// field is written even when the backend was there: a re-registration tells proxies it is back.
    public func add(_ route: Route) async throws(KilnError) {
        try await edit(tool: route.tool, pattern: route.pattern) { field in
            field.add(route.backend)
            return true
        }
    }

    /// Makes the route's backend its pattern's only one.
    public func replace(_ route: Route) async throws(KilnError) {
        let reply = try await connection().send([
            "EVAL", Self.setWithinLimitScript, "1", schema.key(for: route.tool), route.pattern, route.backend.description,
            "\(RouteLimits.patternsPerTool)",
        ])
        if reply.integer == Self.patternLimitReached { throw RouteLimits.tooManyPatterns(tool: route.tool, pattern: route.pattern) }
    }

    /// Removes `backend` from the pattern (the field goes with its last backend), or without a
    /// backend the whole field. Returns whether anything was removed.
    public func remove(tool: String, pattern: String, backend: HostPort?) async throws(KilnError) -> Bool {
        guard let backend else {
            return try await connection().send(["HDEL", schema.key(for: tool), pattern]).integer == 1
        }
        return try await edit(tool: tool, pattern: pattern) { field in field.remove(backend) }
    }

    public func close() async {
        let connection = open
        open = nil
        await connection?.close()
    }

    /// One connection, made on first use and again after it closed. Concurrent callers share
    /// the attempt in flight rather than each opening their own.
    func connection() async throws(KilnError) -> RedisConnection {
        if let open, open.isActive { return open }
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
                open = made
            }
            return made
        } catch {
            if connecting == attempt { connecting = nil }
            throw RedisSocket.connectionError(error)
        }
    }
}
