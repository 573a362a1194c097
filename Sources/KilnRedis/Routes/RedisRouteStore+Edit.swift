import KilnCore

extension RedisRouteStore {
    /// Writes `new` to the field only if it still holds `expected` ('' for none), deleting it when
    /// `new` is ''. One Lua step, so a concurrent writer is never overwritten: -1 means the
    /// field changed meanwhile; -2 that the field is new and the hash has ARGV[4] fields already
    /// (`RouteLimits.patternsPerTool`).
    static let compareAndSetScript = """
        local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
        if current ~= ARGV[2] then return -1 end
        if ARGV[3] == '' then return redis.call('HDEL', KEYS[1], ARGV[1]) end
        if current == '' and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return -2 end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
        return 1
        """

    /// Sets the field to ARGV[2] unless it is new and the hash has ARGV[3] fields already (-2).
    static let setWithinLimitScript = """
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -2 end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        return 1
        """

    /// Answered by both scripts when the tool has as many patterns as it may.
    static let patternLimitReached = -2

    /// Attempts before an edit gives up under constant concurrent writes to one field (replicas
    /// of one webservice registering at once each take a turn).
    static let editAttempts = 64

    /// Changes one field atomically: reads it, lets `change` edit its backends (returning whether
    /// to write), and compares-and-sets, reading again when another writer got in between.
    /// Addresses are compared in Swift, which parses them, so the script only compares text.
    func edit(
        tool: String, pattern: String, _ change: (inout RouteFieldValue) -> Bool
    ) async throws(KilnError) -> Bool {
        let key = schema.key(for: tool)
        for _ in 0..<Self.editAttempts {
            let connection = try await self.connection()
            let stored = try await connection.send(["HGET", key, pattern]).string
            let before = RouteFieldValue(stored)
            var after = before
            guard change(&after) else { return false }
            let reply = try await connection.send([
                "EVAL", Self.compareAndSetScript, "1", key, pattern, stored ?? "", after.text, "\(RouteLimits.patternsPerTool)",
            ])
            if let result = reply.integer, result >= 0 { return true }
            if reply.integer == Self.patternLimitReached { throw RouteLimits.tooManyPatterns(tool: tool, pattern: pattern) }
            // Lost the race: let the writers spread out before reading again.
            try? await Task.sleep(for: .microseconds(Int.random(in: 100...2000)))
        }
        throw KilnError(
            .conflict, "the route '\(pattern)' of '\(tool)' kept changing while being updated; try again",
            context: ["tool": tool, "pattern": pattern])
    }
}
