import KilnCore

/// Where a Redis server is: `redis://HOST[:PORT][/DB]` (port 6379 and database 0 by default).
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var database: Int

    public init(host: String, port: Int = 6379, database: Int = 0) {
        self.host = host
        self.port = port
        self.database = database
    }

    public init(parsing text: String) throws(KilnError) {
        func invalid(_ why: String) -> KilnError {
            KilnError(.invalidAddress, "invalid Redis URL '\(text)': \(why); use redis://HOST:PORT[/DB]", context: ["url": text])
        }
        guard text.hasPrefix("redis://") else { throw invalid("it must start with redis://") }
        var rest = Substring(text.dropFirst("redis://".count))
        // Said plainly, rather than failing later as an odd host name.
        guard !rest.contains("@") else { throw invalid("credentials are not supported") }
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
        self.init(host: address.host, port: address.port, database: database)
    }

    public var description: String { "redis://\(HostPort(host: host, port: port))/\(database)" }
}
