import KilnCore

/// Why Redis refused a connection's commands for who it is rather than for what they are: a
/// misconfiguration for the operator to fix, which waiting will not mend.
public enum RedisRefusal: String, Sendable, Hashable {
    /// AUTH failed: no such user, a wrong password, or a disabled user.
    case credentials
    /// The server wants AUTH and none was sent (`NOAUTH`).
    case authenticationRequired = "authentication_required"
    /// The ACL user may not run that command, on that key or channel (`NOPERM`).
    case permission

    static let contextKey = "redis_refusal"

    /// The refusal an error reply to `command` stands for, if any.
    static func of(command: String, reply message: String) -> RedisRefusal? {
        if command.uppercased() == "AUTH" { return .credentials }
        if message.hasPrefix("NOAUTH") { return .authenticationRequired }
        if message.hasPrefix("NOPERM") { return .permission }
        return nil
    }
}

extension KilnError {
    /// Redis refused who this connection is (nil for an outage or another error).
    public var redisRefusal: RedisRefusal? { context[RedisRefusal.contextKey].flatMap(RedisRefusal.init(rawValue:)) }

    /// An error reply from Redis to `command`; never holds the command's arguments (AUTH's are
    /// the credentials).
    static func redisRefused(_ command: [String], reply message: String, url: RedisURL) -> KilnError {
        let name = command.first ?? "the command"
        var context = ["redis": "\(url)", "redis_error": message, "command": name]
        let refusal = RedisRefusal.of(command: name, reply: message)
        context[RedisRefusal.contextKey] = refusal?.rawValue
        let text: String
        switch refusal {
        case .credentials: text = "Redis at \(url) refused the credentials of \(url.identity): \(message)"
        case .authenticationRequired:
            text = "Redis at \(url) requires credentials (give redis://USER:PASSWORD@… or a password file): \(message)"
        case .permission: text = "Redis at \(url) does not allow \(url.identity) to run \(name): \(message)"
        case nil: text = "Redis refused \(name): \(message)"
        }
        return KilnError(.unavailable, text, context: context)
    }
}
