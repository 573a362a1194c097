import Logging

/// The least a Redis ACL user needs for Kiln's routes, as rules for `ACL SETUSER NAME on >PASSWORD
/// RULES` (or a `user` line of redis.conf): only the route keys (`PREFIX:*`) and their keyspace
/// channel, only the commands Kiln sends. `kiln proxy` reads; `kiln serve` also writes.
public struct RedisRouteACL: Sendable {
    public enum Access: Sendable {
        /// The route feed: SCAN, HGETALL, PSUBSCRIBE; keys read-only.
        case readOnly
        /// The feed, and the route store's HGET, HSET, HDEL and EVAL (its compare-and-set script).
        case readWrite
    }

    public var access: Access
    public var prefix: String
    public var database: Int
    /// With `--redis-configure`: CONFIG GET and SET, to turn keyspace notifications on.
    public var configuresKeyspaceEvents: Bool

    public init(_ access: Access, prefix: String = "prefix", database: Int = 0, configuresKeyspaceEvents: Bool = false) {
        self.access = access
        self.prefix = prefix
        self.database = database
        self.configuresKeyspaceEvents = configuresKeyspaceEvents
    }

    /// The rules, space-separated.
    public var rules: String {
        let schema = RedisRouteSchema(prefix: prefix, logger: .init(label: "kiln.redis.acl"))
        var commands = ["scan", "hgetall", "psubscribe"]
        let keys: String
        switch access {
        case .readOnly:
            keys = "%R~" + schema.keyPattern
        case .readWrite:
            keys = "~" + schema.keyPattern
            commands += ["hget", "hset", "hdel", "hexists", "hlen", "eval"]
        }
        if database != 0 { commands.append("select") }
        if configuresKeyspaceEvents { commands += ["config|get", "config|set"] }
        // A channel pattern is matched literally against PSUBSCRIBE's, so it is the feed's own.
        return (["resetkeys", keys, "resetchannels", "&" + schema.keyspacePattern(database: database), "-@all"]
            + commands.map { "+" + $0 }).joined(separator: " ")
    }
}
