import Foundation
import GRDB
import KilnCore

extension KilnStore {
    /// One stored envvar: its name and its sealed value (the store never sees the value).
    public struct SealedEnvvar: Sendable, Hashable {
        public var name: EnvvarName
        public var sealed: Data

        public init(name: EnvvarName, sealed: Data) {
            self.name = name
            self.sealed = sealed
        }
    }

    /// Creates or replaces `tool`'s envvar; a new one past `quota` is refused, in the same
    /// transaction as the count.
    public func setEnvvar(_ envvar: SealedEnvvar, of tool: ToolName, quota: Int) async throws(KilnError) {
        try await write { db in
            let exists = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM envvars WHERE tool = ? AND name = ?", arguments: [tool.rawValue, envvar.name.rawValue]) != nil
            if !exists {
                let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM envvars WHERE tool = ?", arguments: [tool.rawValue]) ?? 0
                guard count < quota else {
                    throw KilnError(
                        .quotaExceeded, "tool '\(tool)' has \(count) envvars, its quota: delete one first",
                        context: ["tool": tool.rawValue, "quota": String(quota)])
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO envvars (tool, name, sealed, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (tool, name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at
                    """,
                arguments: [tool.rawValue, envvar.name.rawValue, envvar.sealed, Date().timeIntervalSince1970])
        }
    }

    /// `tool`'s envvars, by name.
    public func envvars(of tool: ToolName) async throws(KilnError) -> [SealedEnvvar] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT name, sealed FROM envvars WHERE tool = ? ORDER BY name", arguments: [tool.rawValue])
                .compactMap(Self.sealedEnvvar)
        }
    }

    /// Every tool's envvars (the control plane loads them once at start).
    public func allEnvvars() async throws(KilnError) -> [ToolName: [SealedEnvvar]] {
        try await read { db in
            var all: [ToolName: [SealedEnvvar]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT tool, name, sealed FROM envvars ORDER BY tool, name") {
                guard let tool = try? ToolName(row["tool"] as String), let envvar = Self.sealedEnvvar(row) else { continue }
                all[tool, default: []].append(envvar)
            }
            return all
        }
    }

    /// Removes `tool`'s envvar; returns what it held, or nil when there was none.
    public func deleteEnvvar(_ name: EnvvarName, of tool: ToolName) async throws(KilnError) -> SealedEnvvar? {
        try await write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT name, sealed FROM envvars WHERE tool = ? AND name = ?", arguments: [tool.rawValue, name.rawValue]),
                let envvar = Self.sealedEnvvar(row)
            else { return nil }
            try db.execute(sql: "DELETE FROM envvars WHERE tool = ? AND name = ?", arguments: [tool.rawValue, name.rawValue])
            return envvar
        }
    }

    private static func sealedEnvvar(_ row: Row) -> SealedEnvvar? {
        guard let name = try? EnvvarName(row["name"] as String), let sealed = row["sealed"] as Data? else { return nil }
        return SealedEnvvar(name: name, sealed: sealed)
    }
}
