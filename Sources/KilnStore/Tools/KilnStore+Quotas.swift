import Foundation
import GRDB
import KilnCore

extension KilnStore {
    /// The quota an operator gave `tool`, if any (otherwise the platform's defaults hold).
    public func jobQuota(of tool: ToolName) async throws(KilnError) -> JobQuota? {
        try await read { db in try Self.jobQuota(db, of: tool) }
    }

    /// Gives `tool` its own quota (nil: back to the defaults).
    public func setJobQuota(_ quota: JobQuota?, of tool: ToolName) async throws(KilnError) {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM tools WHERE name = ?", arguments: [tool.rawValue]) != nil else {
                throw KilnError(.notFound, "no tool '\(tool)'", context: ["tool": tool.rawValue])
            }
            guard let quota else {
                try db.execute(sql: "DELETE FROM tool_quotas WHERE tool = ?", arguments: [tool.rawValue])
                return
            }
            let text = String(decoding: try JSONEncoder().encode(quota), as: UTF8.self)
            try db.execute(
                sql: "INSERT INTO tool_quotas (tool, quota) VALUES (?, ?) ON CONFLICT (tool) DO UPDATE SET quota = excluded.quota",
                arguments: [tool.rawValue, text])
        }
    }

    static func jobQuota(_ db: Database, of tool: ToolName) throws -> JobQuota? {
        guard let text = try String.fetchOne(db, sql: "SELECT quota FROM tool_quotas WHERE tool = ?", arguments: [tool.rawValue]) else {
            return nil
        }
        return try JSONDecoder().decode(JobQuota.self, from: Data(text.utf8))
    }
}
