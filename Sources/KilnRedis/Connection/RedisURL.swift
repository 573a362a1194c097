import KilnCore

/// Where a Redis server is and who to be there: `redis://[USER[:PASSWORD]@]HOST[:PORT][/DB]` (port
/// 6379 and database 0 by default; user and password percent-decoded). With a password, every
/// connection starts with `AUTH`; its description never shows the password.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var database: Int
    /// The ACL user (Redis 6+); nil is the `default` user.
    public var user: String?
    public var password: String?

    public init(host: String, port: Int = 6379, database: Int = 0, user: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
    }

    public init(parsing text: String) throws(KilnError) {
        let shown = Self.redacted(text)
        func invalid(_ why: String) -> KilnError {
            KilnError(
                .invalidAddress, "invalid Redis URL '\(shown)': \(why); use redis://[USER:PASSWORD@]HOST:PORT[/DB]",
                context: ["url": shown])
        }
        guard text.hasPrefix("redis://") else { throw invalid("it must start with redis://") }
        var rest = Substring(text.dropFirst("redis://".count))
        var user: String?
        var password: String?
        // The last '@' ends the credentials: an unescaped '@' in a password still parses.
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let colon = userInfo.firstIndex(of: ":")
            let userPart = userInfo[..<(colon ?? userInfo.endIndex)]
            guard let decodedUser = Self.percentDecoded(userPart) else { throw invalid("the user is not validly percent-encoded") }
            user = decodedUser.isEmpty ? nil : decodedUser
            if let colon {
                guard let decoded = Self.percentDecoded(userInfo[userInfo.index(after: colon)...]) else {
                    throw invalid("the password is not validly percent-encoded")
                }
                guard !decoded.isEmpty else { throw invalid("the password is empty") }
                password = decoded
            }
            guard user != nil || password != nil else { throw invalid("the credentials before '@' are empty") }
        }
        guard !rest.contains("?") else { throw invalid("query parameters are not supported") }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let number = Int(db), number >= 0 else { throw invalid("the database must be a number") }
                database = number
            }
            rest = rest[..<slash]
        }
        let address: HostPort
        if rest.contains(":") {
            do {
                address = try HostPort(parsing: String(rest))
            } catch {
                throw invalid(error.message)
            }
        } else {
            guard !rest.isEmpty else { throw invalid("the host is empty") }
            address = HostPort(host: String(rest), port: 6379)
        }
        guard address.port > 0 else { throw invalid("the port must be from 1 to 65535") }
        self.init(host: address.host, port: address.port, database: database, user: user, password: password)
    }

    /// What each connection sends first: `AUTH USER PASSWORD` (an ACL user) or `AUTH PASSWORD`.
    var authCommand: [String]? {
        guard let password else { return nil }
        if let user { return ["AUTH", user, password] }
        return ["AUTH", password]
    }

    /// Who the connection is, for messages: the user's name, never the password.
    public var identity: String { user.map { "user '\($0)'" } ?? "the default user" }

    public var description: String {
        var credentials = ""
        if let user { credentials = Self.percentEncoded(user) }
        if password != nil { credentials += ":***" }
        if !credentials.isEmpty { credentials += "@" }
        return "redis://\(credentials)\(HostPort(host: host, port: port))/\(database)"
    }

    /// `text` with whatever stands before the last '@' hidden, for messages about a URL that
    /// may not even parse.
    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@") else { return text }
        let scheme = text.hasPrefix("redis://") ? "redis://" : ""
        return scheme + "***" + text[at...]
    }

    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A user name as the URL spells it: unreserved bytes as they are, the rest %XX.
    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let unreserved =
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "-._~".utf8.contains(byte)
            if unreserved {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return result
    }
}
