import KilnCore
import NIOCore

extension RedisRouteFeed {
    /// Connects as the feed will (AUTH, SELECT) and lists one step of the route keys, then
    /// closes: refused credentials or a missing permission show at start, as an error whose
    /// `redisRefusal` says which, rather than as a feed retrying forever. An unreachable server
    /// is an error without a refusal.
    public func checkAccess() async throws(KilnError) {
        let connection = try await RedisConnection.connect(to: url, timeout: TimeAmount(connectTimeout))
        do throws(KilnError) {
            _ = try await connection.send(["SCAN", "0", "MATCH", schema.keyPattern, "COUNT", "1"])
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
    }
}
