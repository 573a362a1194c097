import KilnCore
import Logging

/// The seed's (dynamicproxy) layout of routes in Redis: one hash `PREFIX:TOOL` per tool, whose
/// fields are patterns and values `HOST:PORT`, or several backends of the pattern separated by
/// spaces (`HOST:PORT HOST:PORT`). Shared by the store (API side) and the feed (proxy side), so
/// both read the hashes the same way.
struct RedisRouteSchema: Sendable {
    let prefix: String
    let logger: Logger

    /// How many commands go in one pipelined write during a full read.
    static let batchSize = 1000

    func key(for tool: String) -> String { prefix + ":" + tool }

    func tool(fromKey key: String) -> String? {
        guard key.hasPrefix(prefix + ":") else { return nil }
        let tool = String(key.dropFirst(prefix.count + 1))
        return tool.isEmpty ? nil : tool
    }

    /// The glob matching every route key (for SCAN); the prefix is taken literally.
    var keyPattern: String { Self.globEscaped(prefix) + ":*" }

    /// The pub/sub pattern of keyspace notifications for every route key of `database`.
    func keyspacePattern(database: Int) -> String { "__keyspace@\(database)__:" + keyPattern }

    func tool(fromKeyspaceChannel channel: String, database: Int) -> String? {
        let channelPrefix = "__keyspace@\(database)__:"
        guard channel.hasPrefix(channelPrefix) else { return nil }
        return tool(fromKey: String(channel.dropFirst(channelPrefix.count)))
    }

    /// Redis globs treat `*?[]\` specially; a prefix holding one must still match only itself.
    static func globEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// A hash's fields as routes, one per backend. Catch-all patterns go last so that the specific
    /// ones get a chance to match; the others keep the order Redis returned them in. Backends that
    /// are not `HOST:PORT` are skipped: one bad entry must not take the tool's other routes down.
    func routes(tool: String, hgetall reply: RESPValue) -> [Route] {
        if case .error(let message) = reply {
            logger.warning(
                "skipping a route key that is not a hash", metadata: ["key": "\(key(for: tool))", "redis_error": "\(message)"])
            return []
        }
        guard let items = reply.array else { return [] }
        var specific: [Route] = []
        var catchAll: [Route] = []
        var index = 0
        while index + 1 < items.count {
            defer { index += 2 }
            guard let pattern = items[index].string, let value = items[index + 1].string else { continue }
            let field = RouteFieldValue(value)
            if !field.invalidWords.isEmpty {
                logger.warning(
                    "skipping a route backend that is not HOST:PORT",
                    metadata: ["tool": "\(tool)", "pattern": "\(pattern)", "value": "\(value)"])
            }
            let routes = field.backends.map { Route(tool: tool, pattern: pattern, backend: $0) }
            if RoutePattern.isCatchAll(pattern) { catchAll += routes } else { specific += routes }
        }
        return specific + catchAll
    }

    /// The tools that have a hash, by SCAN (never KEYS, which blocks a shared server), sorted.
    func tools(on connection: RedisConnection) async throws(KilnError) -> [String] {
        var cursor = "0"
        // SCAN may return a key more than once.
        var tools = Set<String>()
        repeat {
            let reply = try await connection.send(["SCAN", cursor, "MATCH", keyPattern, "COUNT", "1000"])
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array else {
                throw KilnError(.unavailable, "unexpected SCAN reply from Redis: \(reply)")
            }
            cursor = next
            for key in keys { if let tool = key.string.flatMap(tool(fromKey:)) { tools.insert(tool) } }
        } while cursor != "0"
        return tools.sorted()
    }

    /// Each tool's routes, read in pipelined batches: a full read of 100,000 tools costs a
    /// hundred round trips, not 100,000.
    func routes(of tools: [String], on connection: RedisConnection) async throws(KilnError) -> [(tool: String, routes: [Route])] {
        var result: [(tool: String, routes: [Route])] = []
        result.reserveCapacity(tools.count)
        var start = 0
        while start < tools.count {
            let batch = tools[start..<min(start + Self.batchSize, tools.count)]
            start += batch.count
            let replies = try await connection.pipeline(batch.map { ["HGETALL", key(for: $0)] })
            for (tool, reply) in zip(batch, replies) { result.append((tool, routes(tool: tool, hgetall: reply))) }
        }
        return result
    }

    func allRoutes(on connection: RedisConnection) async throws(KilnError) -> [Route] {
        try await routes(of: tools(on: connection), on: connection).flatMap(\.routes)
    }
}
