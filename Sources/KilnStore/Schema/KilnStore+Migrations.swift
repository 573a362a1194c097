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
        migrator.registerMigration("v5-jobs") { db in
            // A tick is claimed by writing `last_tick` and the run's row in one transaction; the
            // unique index makes a second run for one tick impossible even if two claims raced.
            try db.execute(
                sql: """
                    CREATE TABLE jobs (
                        tool TEXT NOT NULL REFERENCES tools(name) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        spec TEXT NOT NULL,
                        declared_at REAL NOT NULL,
                        last_tick REAL,
                        PRIMARY KEY (tool, name)
                    );
                    CREATE TABLE job_runs (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        tool TEXT NOT NULL,
                        job TEXT NOT NULL,
                        tick REAL,
                        finished INTEGER NOT NULL DEFAULT 0,
                        record TEXT NOT NULL,
                        FOREIGN KEY (tool, job) REFERENCES jobs(tool, name) ON DELETE CASCADE
                    );
                    CREATE UNIQUE INDEX job_runs_once_per_tick ON job_runs(tool, job, tick) WHERE tick IS NOT NULL;
                    CREATE INDEX job_runs_by_job ON job_runs(tool, job, id);
                    CREATE INDEX job_runs_unfinished ON job_runs(finished) WHERE finished = 0;
                    CREATE TABLE job_replicas (
                        tool TEXT NOT NULL,
                        job TEXT NOT NULL,
                        replica INTEGER NOT NULL,
                        record TEXT NOT NULL,
                        PRIMARY KEY (tool, job, replica),
                        FOREIGN KEY (tool, job) REFERENCES jobs(tool, name) ON DELETE CASCADE
                    );
                    """
            )
        }
        migrator.registerMigration("v6-envvars") { db in
            // Values are sealed (AES-GCM, a key kept outside the database): a copy of the store
            // alone reveals names, never values.
            try db.execute(
                sql: """
                    CREATE TABLE envvars (
                        tool TEXT NOT NULL REFERENCES tools(name) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        sealed BLOB NOT NULL,
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (tool, name)
                    );
                    """
            )
        }
        migrator.registerMigration("v7-tool-quotas") { db in
            // An operator's raise (or cut) of one tool's quota; tools without a row have the defaults.
            try db.execute(
                sql: """
                    CREATE TABLE tool_quotas (
                        tool TEXT PRIMARY KEY REFERENCES tools(name) ON DELETE CASCADE,
                        quota TEXT NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v8-builds") { db in
            // A tool's builds (numbered from 1; the record a JSON document) and the images they
            // made, by name and numbered tag: the highest tag of a name is its `latest`.
            try db.execute(
                sql: """
                    CREATE TABLE builds (
                        tool TEXT NOT NULL REFERENCES tools(name) ON DELETE CASCADE,
                        number INTEGER NOT NULL,
                        record TEXT NOT NULL,
                        ended INTEGER NOT NULL,
                        PRIMARY KEY (tool, number)
                    );
                    CREATE TABLE images (
                        tool TEXT NOT NULL REFERENCES tools(name) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        tag INTEGER NOT NULL,
                        manifest TEXT NOT NULL,
                        PRIMARY KEY (tool, name, tag)
                    );
                    """
            )
        }
        return migrator
    }()
}
