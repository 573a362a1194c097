import Foundation
import GRDB
import KilnCore

extension KilnStore {
    /// Stores a new tool together with the hash of its first token.
    public func createTool(_ tool: Tool, tokenHash: String) async throws(KilnError) {
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM tools WHERE name = ?", arguments: [tool.name.rawValue]) != nil {
                throw KilnError(.conflict, "tool '\(tool.name)' already exists", context: ["tool": tool.name.rawValue])
            }
            try db.execute(
                sql: "INSERT INTO tools (name, unix_user, uid, gid, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    tool.name.rawValue, tool.unixUser?.name, tool.unixUser.map { Int64($0.uid) },
                    tool.unixUser.map { Int64($0.gid) }, tool.createdAt,
                ]
            )
            for (position, maintainer) in tool.maintainers.enumerated() {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO tool_maintainers (tool, position, maintainer) VALUES (?, ?, ?)",
                    arguments: [tool.name.rawValue, position, maintainer]
                )
            }
            try db.execute(
                sql: "INSERT INTO tool_tokens (token_hash, tool, created_at) VALUES (?, ?, ?)",
                arguments: [tokenHash, tool.name.rawValue, tool.createdAt]
            )
        }
    }

    public func tools() async throws(KilnError) -> [Tool] {
        try await read { db in try Self.fetchTools(db, where: nil, arguments: []) }
    }

    public func tool(named name: ToolName) async throws(KilnError) -> Tool? {
        try await read { db in try Self.fetchTools(db, where: "name = ?", arguments: [name.rawValue]).first }
    }

    /// The tool whose token hashes to `tokenHash`, if any.
    public func tool(forTokenHash tokenHash: String) async throws(KilnError) -> ToolName? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT tool FROM tool_tokens WHERE token_hash = ?", arguments: [tokenHash])
                .flatMap { try? ToolName($0) }
        }
    }

    /// Gives a stored tool the Unix user it runs as (a tool made before the platform managed
    /// users, given one before anything of it runs again).
    public func setUnixUser(_ identity: UnixIdentity, of name: ToolName) async throws(KilnError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE tools SET unix_user = ?, uid = ?, gid = ? WHERE name = ?",
                arguments: [identity.name, Int64(identity.uid), Int64(identity.gid), name.rawValue])
            guard db.changesCount == 1 else { throw KilnError(.notFound, "no tool '\(name)'", context: ["tool": name.rawValue]) }
        }
    }

    /// The tool that runs as Unix user `uid`, if any.
    public func tool(forUID uid: UInt32) async throws(KilnError) -> ToolName? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT name FROM tools WHERE uid = ?", arguments: [Int64(uid)])
                .flatMap { try? ToolName($0) }
        }
    }

    /// Removes the tool's tokens: from now on nothing acts for it with a token (its deletion has begun).
    public func revokeTokens(of name: ToolName) async throws(KilnError) {
        try await write { db in try db.execute(sql: "DELETE FROM tool_tokens WHERE tool = ?", arguments: [name.rawValue]) }
    }

    /// Removes the tool, its tokens and its routes in one transaction. Returns the removed tool.
    @discardableResult
    public func deleteTool(named name: ToolName) async throws(KilnError) -> Tool {
        let broadcast = routeChanges
        return try await write { db in
            guard let tool = try Self.fetchTools(db, where: "name = ?", arguments: [name.rawValue]).first else {
                throw KilnError(.notFound, "tool '\(name)' does not exist", context: ["tool": name.rawValue])
            }
            try db.execute(sql: "DELETE FROM routes WHERE tool = ?", arguments: [name.rawValue])
            try db.execute(sql: "DELETE FROM tools WHERE name = ?", arguments: [name.rawValue])
            try Self.publishOnCommit(db, tool: name.rawValue, to: broadcast)
            return tool
        }
    }

    static func fetchTools(_ db: Database, where condition: String?, arguments: StatementArguments) throws -> [Tool] {
        let sql = "SELECT name, unix_user, uid, gid, created_at FROM tools"
            + (condition.map { " WHERE \($0)" } ?? "") + " ORDER BY name"
        let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
        var maintainers: [String: [String]] = [:]
        let maintainerRows = try Row.fetchAll(
            db, sql: "SELECT tool, maintainer FROM tool_maintainers ORDER BY tool, position")
        for row in maintainerRows { maintainers[row["tool"], default: []].append(row["maintainer"]) }
        return try rows.map { row in
            let name: String = row["name"]
            var identity: UnixIdentity?
            if let user: String = row["unix_user"], let uid: Int64 = row["uid"], let gid: Int64 = row["gid"] {
                identity = UnixIdentity(name: user, uid: UInt32(uid), gid: UInt32(gid))
            }
            return Tool(
                name: try ToolName(name),
                maintainers: maintainers[name] ?? [],
                unixUser: identity,
                createdAt: row["created_at"]
            )
        }
    }
}
