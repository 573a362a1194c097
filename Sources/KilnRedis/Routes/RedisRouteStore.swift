import KilnCore
import Logging

/// Routes in Redis in the seed's (dynamicproxy) schema: one hash `PREFIX:TOOL` per tool whose
/// fields are patterns and values `host:port`, so that older tooling that writes those hashes
/// and Kiln's proxies see the same table.
public actor RedisRouteStore {
    public let url: RedisURL
    public let prefix: String
    let logger: Logger
    private var connection: RedisConnection?

    public init(url: RedisURL, prefix: String = "prefix", logger: Logger = Logger(label: "kiln.redis")) {
        self.url = url
        self.prefix = prefix
        self.logger = logger
    }

    func key(for tool: String) -> String { prefix + ":" + tool }

    /// One connection, made on first use and again after it broke.
    func command(_ arguments: [String]) async throws(KilnError) -> RESPValue {
        if connection == nil || connection?.isActive == false {
            connection = try await RedisConnection.connect(to: url)
        }
        do {
            return try await connection!.send(arguments)
        } catch {
            if connection?.isActive == false { connection = nil }
            throw error
        }
    }

    /// Every route: the keys by SCAN, then their hashes in pipelined batches, so a full resync of
    /// 100,000 tools costs a hundred round trips, not 100,000.
    public func allRoutes() async throws(KilnError) -> [Route] {
        let tools = try await toolsWithRoutes()
        var routes: [Route] = []
        routes.reserveCapacity(tools.count)
        var start = 0
        while start < tools.count {
            let batch = tools[start..<min(start + 1000, tools.count)]
            start += batch.count
            let replies = try await pipeline(batch.map { ["HGETALL", key(for: $0)] })
            for (tool, reply) in zip(batch, replies) {
                routes += Self.routes(tool: tool, hgetall: reply, logger: logger)
            }
        }
        return routes
    }

    func pipeline(_ commands: [[String]]) async throws(KilnError) -> [RESPValue] {
        if connection == nil || connection?.isActive == false {
            connection = try await RedisConnection.connect(to: url)
        }
        return try await connection!.pipeline(commands)
    }

    /// The tools that have a hash, by SCAN (never KEYS, which blocks a shared server).
    public func toolsWithRoutes() async throws(KilnError) -> [String] {
        var cursor = "0"
        var tools: [String] = []
        repeat {
            let reply = try await command(["SCAN", cursor, "MATCH", prefix + ":*", "COUNT", "1000"])
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array else {
                throw KilnError(.unavailable, "unexpected SCAN reply from Redis")
            }
            cursor = next
            tools += keys.compactMap { $0.string.map { String($0.dropFirst(prefix.count + 1)) } }
        } while cursor != "0"
        return tools.sorted()
    }

    public func routes(of tool: String) async throws(KilnError) -> [Route] {
        Self.routes(tool: tool, hgetall: try await command(["HGETALL", key(for: tool)]), logger: logger)
    }

    /// A hash's fields as routes. A hash has no order; catch-all patterns go last so that the
    /// specific ones can match, and the rest keep Redis's order.
    static func routes(tool: String, hgetall: RESPValue, logger: Logger) -> [Route] {
        guard let items = hgetall.array else { return [] }
        var specific: [Route] = []
        var catchAll: [Route] = []
        var index = 0
        while index + 1 < items.count {
            defer { index += 2 }
            guard let pattern = items[index].string, let value = items[index + 1].string else { continue }
            guard let backend = try? HostPort(parsing: value) else {
                logger.warning("skipping a route whose backend is not HOST:PORT", metadata: ["tool": "\(tool)", "value": "\(value)"])
                continue
            }
            let route = Route(tool: tool, pattern: pattern, backend: backend)
            if RoutePattern.isCatchAll(pattern) { catchAll.append(route) } else { specific.append(route) }
        }
        return specific + catchAll
    }

    public func add(_ route: Route) async throws(KilnError) {
        _ = try await command(["HSET", key(for: route.tool), route.pattern, route.backend.description])
    }

    /// Removes the route; with `backend`, only if it still points there (atomically, in Redis).
    public func remove(tool: String, pattern: String, backend: HostPort?) async throws(KilnError) -> Bool {
        let reply: RESPValue
        if let backend {
            let script = """
                if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
                return 0
                """
            reply = try await command(["EVAL", script, "1", key(for: tool), pattern, backend.description])
        } else {
            reply = try await command(["HDEL", key(for: tool), pattern])
        }
        return (reply.integer ?? 0) > 0
    }
}
