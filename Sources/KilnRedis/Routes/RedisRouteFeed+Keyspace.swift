import KilnCore
import Logging

extension RedisRouteFeed {
    /// Whether Redis publishes the keyspace events the feed follows.
    enum KeyspaceNotifications: Equatable {
        case on
        /// `notify-keyspace-events` lacks flags the feed needs; it holds `current`.
        case off(current: String)
        /// The setting cannot be read (an ACL without `CONFIG GET`, a managed service).
        case unknown
    }

    static let neededKeyspaceFlags = "Kgh"

    /// Checks that Redis sends keyspace events for hash commands (h) and generic ones such as
    /// DEL and RENAME (g) on keyspace channels (K). Redis' configuration is changed only when the
    /// feed was told it may (`configuresKeyspaceEvents`): then the missing flags are added,
    /// keeping whatever flags others set. Otherwise, and where the setting cannot be read or
    /// written, it says what the operator must set; the periodic resync still applies changes.
    func keyspaceNotifications(_ connection: RedisConnection) async throws(KilnError) -> KeyspaceNotifications {
        let current: String
        do throws(KilnError) {
            current = try await connection.send(["CONFIG", "GET", "notify-keyspace-events"]).array?.last?.string ?? ""
        } catch where error.context["redis_error"] != nil {
            // The least ACL of a proxy has no CONFIG: expected, so said once per connection, calmly.
            logger.notice(
                """
                cannot read Redis' notify-keyspace-events: make sure it holds K, g and h (or K and A), or route \
                changes arrive only with the periodic resync
                """,
                metadata: ["redis": "\(url)", "error": "\(error)", "needed": "\(Self.neededKeyspaceFlags)"])
            return .unknown
        }
        guard let wanted = Self.keyspaceFlags(adding: current) else { return .on }
        guard configuresKeyspaceEvents else {
            logger.warning(
                """
                Redis sends no keyspace notifications for route changes: they arrive only with the periodic resync. \
                Set notify-keyspace-events to include K, g and h (redis.conf, or CONFIG SET), or let Kiln set it \
                with --redis-configure
                """,
                metadata: ["redis": "\(url)", "now": "\(current)", "set_to": "\(wanted)"])
            return .off(current: current)
        }
        do throws(KilnError) {
            _ = try await connection.send(["CONFIG", "SET", "notify-keyspace-events", wanted])
        } catch where error.context["redis_error"] != nil {
            logger.warning(
                "cannot turn on Redis keyspace notifications; route changes will arrive only with the periodic resync",
                metadata: ["redis": "\(url)", "error": "\(error)", "set_to": "\(wanted)"])
            return .off(current: current)
        }
        logger.notice(
            "enabled Redis keyspace notifications for route changes",
            metadata: ["redis": "\(url)", "was": "\(current)", "now": "\(wanted)"])
        return .on
    }

    /// `current` with K, g and h added (A already means every class, g and h among them); nil
    /// when nothing is missing.
    static func keyspaceFlags(adding current: String) -> String? {
        var flags = current
        if !flags.contains("K") { flags.append("K") }
        if !flags.contains("A") {
            for flag in "gh" where !flags.contains(flag) { flags.append(flag) }
        }
        return flags == current ? nil : flags
    }
}
