import Foundation
import GRDB
import KilnCore

extension KilnStore {
    /// Declares (or re-declares) the tool's webservice; its replicas start afresh.
    /// Declares the tool's webservice; `check` sees the tool's load with it (its jobs and this
    /// webservice) in the same transaction, so a job created meanwhile is counted by one or the
    /// other check, never by neither.
    public func declareWebservice(
        _ record: WebserviceRecord, checking check: @escaping @Sendable (ToolLoad) throws(KilnError) -> Void = { _ in }
    ) async throws(KilnError) {
        let spec = try Self.encode(record.spec)
        try await write { db in
            try check(ToolLoad(jobs: try Self.specs(of: record.tool, db), webservice: record.spec))
            try db.execute(sql: "DELETE FROM webservice_replicas WHERE tool = ?", arguments: [record.tool.rawValue])
            try db.execute(
                sql: """
                    INSERT INTO webservices (tool, spec, declared_at) VALUES (?, ?, ?)
                    ON CONFLICT (tool) DO UPDATE SET spec = excluded.spec, declared_at = excluded.declared_at
                    """,
                arguments: [record.tool.rawValue, spec, record.declaredAt])
        }
    }

    /// Removes the declaration and its replicas' records. Returns whether there was one.
    @discardableResult
    public func removeWebservice(of tool: ToolName) async throws(KilnError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM webservices WHERE tool = ?", arguments: [tool.rawValue])
            return db.changesCount > 0
        }
    }

    public func webservice(of tool: ToolName) async throws(KilnError) -> WebserviceRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM webservices WHERE tool = ?", arguments: [tool.rawValue])
                .map(Self.webservice(from:))
        }
    }

    public func webservices() async throws(KilnError) -> [WebserviceRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webservices ORDER BY tool").map(Self.webservice(from:))
        }
    }

    /// Records a replica's state; a replica of a webservice no longer declared is not recorded.
    public func saveReplica(_ replica: ReplicaRecord) async throws(KilnError) {
        let record = try Self.encode(replica)
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO webservice_replicas (tool, replica, record)
                    SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM webservices WHERE tool = ?)
                    ON CONFLICT (tool, replica) DO UPDATE SET record = excluded.record
                    """,
                arguments: [replica.tool.rawValue, replica.index, record, replica.tool.rawValue])
        }
    }

    /// Forgets the records of some of the tool's replicas: a generation a rolling restart
    /// replaced (or abandoned), whose processes are down. The others' records stay.
    public func forgetReplicas(of tool: ToolName, indices: Set<Int>) async throws(KilnError) {
        guard !indices.isEmpty else { return }
        try await write { db in
            for index in indices.sorted() {
                try db.execute(
                    sql: "DELETE FROM webservice_replicas WHERE tool = ? AND replica = ?", arguments: [tool.rawValue, index])
            }
        }
    }

    public func replicas(of tool: ToolName) async throws(KilnError) -> [ReplicaRecord] {
        try await read { db in
            try String.fetchAll(
                db, sql: "SELECT record FROM webservice_replicas WHERE tool = ? ORDER BY replica", arguments: [tool.rawValue]
            ).map { try KilnJSONCoding.decoder.decode(ReplicaRecord.self, from: Data($0.utf8)) }
        }
    }

    /// Routes the webservice runner registered, so that the monitor can take away the ones whose
    /// replica is gone, and leave alone the routes registered by hand.
    public func recordWebserviceRoute(_ route: Route) async throws(KilnError) {
        try await write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO webservice_routes (tool, pattern, backend) VALUES (?, ?, ?)",
                arguments: [route.tool, route.pattern, route.backend.description])
        }
    }

    public func forgetWebserviceRoute(_ route: Route) async throws(KilnError) {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM webservice_routes WHERE tool = ? AND pattern = ? AND backend = ?",
                arguments: [route.tool, route.pattern, route.backend.description])
        }
    }

    public func webserviceRoutes() async throws(KilnError) -> [Route] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT tool, pattern, backend FROM webservice_routes ORDER BY tool")
                .compactMap(Self.route(from:))
        }
    }

    static func webserviceSpec(of tool: ToolName, _ db: Database) throws -> WebserviceSpec? {
        try Row.fetchOne(db, sql: "SELECT * FROM webservices WHERE tool = ?", arguments: [tool.rawValue]).map(Self.webservice(from:))?.spec
    }

    static func webservice(from row: Row) throws -> WebserviceRecord {
        let spec = try KilnJSONCoding.decoder.decode(WebserviceSpec.self, from: Data((row["spec"] as String).utf8))
        return WebserviceRecord(tool: try ToolName(row["tool"] as String), spec: spec, declaredAt: row["declared_at"])
    }

    static func encode<T: Encodable>(_ value: T) throws(KilnError) -> String {
        do {
            return String(decoding: try KilnJSONCoding.encoder.encode(value), as: UTF8.self)
        } catch {
            throw KilnError(.internalError, "cannot encode \(T.self): \(error)")
        }
    }
}

/// JSON columns: one encoding for everything the store keeps as a document.
enum KilnJSONCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()
    /// Records are read as they were written (`Decoder.readsStoredRecords`).
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        if let key = CodingUserInfoKey.storedRecord { decoder.userInfo[key] = true }
        return decoder
    }()
}
