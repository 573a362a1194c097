import KilnCore
import KilnRedis
import Logging

/// What `kiln serve` and `kiln proxy` say and check at start when routes live in Redis: whoever
/// can write there routes every tool's traffic, so tools must not reach it, and Kiln should
/// connect as an ACL user with only the rights its role needs.
enum RedisRouteAccess {
    enum Role: String {
        /// `kiln proxy`: reads routes (read-only ACL user).
        case proxy
        /// `kiln serve`: reads and writes routes (read-write ACL user).
        case server
    }

    /// Logs the warning, then checks the credentials: a refusal ends the start with its reason; an
    /// unreachable server is left to the feed, which retries and serves what it knows. Returns
    /// whether Redis answered.
    @discardableResult
    static func check(_ feed: RedisRouteFeed, role: Role, passwordInArguments: Bool, logger: Logger) async throws -> Bool {
        logger.notice(
            """
            routes are kept in Redis: tools must not be able to reach it (bind it where tools' users cannot \
            connect, or firewall it), and Kiln should connect as an ACL user, read-only for proxies and \
            read-write for kiln serve (README: Routes in Redis)
            """,
            metadata: ["redis": "\(feed.url)", "role": "\(role.rawValue)", "as": "\(feed.url.identity)"])
        if feed.url.password == nil {
            logger.warning(
                "Redis is used without credentials: any process that reaches it can rewrite every tool's routes",
                metadata: ["redis": "\(feed.url)"])
        } else if passwordInArguments {
            logger.warning(
                """
                the Redis password is on the command line, which every local user (tools too) can read in \
                /proc; keep it in --routes-password-file instead
                """,
                metadata: ["redis": "\(feed.url)"])
        }
        do {
            try await feed.checkAccess()
            return true
        } catch where error.redisRefusal != nil {
            throw error
        } catch {
            logger.warning(
                "cannot reach Redis at start; routes follow once it answers", metadata: ["redis": "\(feed.url)", "error": "\(error)"])
            return false
        }
    }
}
