import GRDB

extension KilnStore {
    /// Versioned schema. A migration is never edited once released: add a new one.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-tools") { db in
            try db.execute(
                sql: """
                    CREATE TABLE tools (
                        name TEXT PRIMARY KEY NOT NULL,
                        unix_user TEXT,
                        uid INTEGER,
                        gid INTEGER,
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE tool_maintainers (
                        tool TEXT NOT NULL REFERENCES tools(name) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        maintainer TEXT NOT NULL,
                        PRIMARY KEY (tool, maintainer)
                    );
                    CREATE TABLE tool_tokens (
                        token_hash TEXT PRIMARY KEY NOT NULL,
                        tool TEXT NOT NULL REFERENCES tools(name) ON DELETE CASCADE,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX tool_tokens_by_tool ON tool_tokens(tool);
                    CREATE UNIQUE INDEX tools_by_uid ON tools(uid) WHERE uid IS NOT NULL;
                    """
            )
        }
        migrator.registerMigration("v2-routes") { db in
            // Not tied to tools by a foreign key: the landing site's routes live under `admin`,
            // which need not be a tool account.
            try db.execute(
                sql: """
                    CREATE TABLE routes (
                        tool TEXT NOT NULL,
                        position INTEGER NOT NULL,
                        pattern TEXT NOT NULL,
                        backend TEXT NOT NULL,
                        PRIMARY KEY (tool, pattern)
                    );
                    """
            )
        }
        migrator.registerMigration("v3-route-backends") { db in
            // A pattern may have several backends (a webservice's replicas): one row per backend.
            // `position` is the pattern's place among the tool's, shared by its rows (removing a
            // backend never moves a pattern); `backend_position` orders the pattern's backends.
            try db.execute(
                sql: """
                    CREATE TABLE routes_v3 (
                        tool TEXT NOT NULL,
                        position INTEGER NOT NULL,
                        pattern TEXT NOT NULL,
                        backend TEXT NOT NULL,
                        backend_position INTEGER NOT NULL,
                        PRIMARY KEY (tool, pattern, backend)
                    );
                    INSERT INTO routes_v3 (tool, position, pattern, backend, backend_position)
                        SELECT tool, position, pattern, backend, 0 FROM routes;
                    DROP TABLE routes;
                    ALTER TABLE routes_v3 RENAME TO routes;
                    """
            )
        }
        migrator.registerMigration("v4-webservices") { db in
            // Declarations and replica states are JSON documents (decoded by the core's Codable
            // types), keyed for the lookups the monitor makes.
            try db.execute(
                sql: """
                    CREATE TABLE webservices (
                        tool TEXT PRIMARY KEY NOT NULL REFERENCES tools(name) ON DELETE CASCADE,
                        spec TEXT NOT NULL,
                        declared_at REAL NOT NULL
                    );
                    CREATE TABLE webservice_replicas (
                        tool TEXT NOT NULL REFERENCES webservices(tool) ON DELETE CASCADE,
                        replica INTEGER NOT NULL,
                        record TEXT NOT NULL,
                        PRIMARY KEY (tool, replica)
                    );
                    CREATE TABLE webservice_routes (
                        tool TEXT NOT NULL,
                        pattern TEXT NOT NULL,
                        backend TEXT NOT NULL,
                        PRIMARY KEY (tool, pattern, backend)
                    );
                    """
            )
        }
        return migrator
    }()
}
