import Foundation
import GRDB
import KilnCore
import Logging

/// Everything the platform knows, in one SQLite file (WAL mode, synchronous=FULL): a write that
/// returned has reached the disk, so a `kill -9` right after an acknowledged call loses nothing.
public final class KilnStore: Sendable {
    let pool: DatabasePool
    let routeChanges: RouteChangeBroadcast

    /// Opens (creating when missing) the store at `path` and brings its schema up to date.
    public convenience init(path: String, logger: Logger = Logger(label: "kiln.store")) throws(KilnError) {
        try self.init(path: path, migratingUpTo: nil, logger: logger)
    }

    /// `migratingUpTo` stops at that migration (tests of a migration start from the schema before it).
    init(path: String, migratingUpTo lastMigration: String?, logger: Logger = Logger(label: "kiln.store")) throws(KilnError) {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.label = "kiln"
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            if let lastMigration {
                try Self.migrator.migrate(pool, upTo: lastMigration)
            } else {
                try Self.migrator.migrate(pool)
            }
        } catch {
            throw KilnError(.storage, "cannot open the store at \(path): \(error)", context: ["path": path])
        }
        routeChanges = RouteChangeBroadcast()
        logger.debug("store open", metadata: ["path": "\(path)"])
    }

    /// The names of the migrations applied, in order (for `kiln` diagnostics and tests).
    public func appliedMigrations() async throws(KilnError) -> [String] {
        try await read { db in try Self.migrator.appliedMigrations(db) }
    }

    /// SQLite's own integrity check: "ok" when the file is whole.
    public func integrityCheck() async throws(KilnError) -> String {
        try await read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
    }

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(KilnError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs `body` in one transaction: all of it is stored, or none of it.
    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(KilnError) -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    static func storeError(_ error: any Error) -> KilnError {
        if let error = error as? KilnError { return error }
        if let error = error as? DatabaseError, error.resultCode == .SQLITE_CONSTRAINT {
            return KilnError(.conflict, "already exists: \(error.message ?? "constraint")")
        }
        return KilnError(.storage, "store error: \(error)")
    }
}
