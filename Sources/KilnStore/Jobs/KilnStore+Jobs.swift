import Foundation
import GRDB
import KilnCore

extension KilnStore {
    /// How many finished runs of a job the history keeps.
    public static let runHistoryLength = 50

    /// One tick to claim: the job's `last_tick` moves to `tick`, and a run is queued for it unless
    /// `run` is false (the tick is passed over because the previous run still goes).
    public struct TickClaim: Sendable, Hashable {
        public var tool: ToolName
        public var job: String
        public var tick: Double
        public var missed: Int
        public var run: Bool

        public init(tool: ToolName, job: String, tick: Double, missed: Int, run: Bool) {
            self.tool = tool
            self.job = job
            self.tick = tick
            self.missed = missed
            self.run = run
        }
    }

    /// What `load` changes, applied in one transaction: all of it, or (on any error) none.
    public struct JobChanges: Sendable, Hashable {
        public var upserted: [JobSpec]
        public var deleted: [String]

        public init(upserted: [JobSpec], deleted: [String]) {
            self.upserted = upserted
            self.deleted = deleted
        }
    }

    /// Declares a new job; a job of that name is a conflict. `check` sees all the tool's jobs as
    /// they would be, in the same transaction (a quota holds also against concurrent creates).
    public func createJob(
        _ record: JobRecord, checking check: @escaping @Sendable (ToolLoad) throws(KilnError) -> Void = { _ in }
    ) async throws(KilnError) {
        let spec = try Self.encode(record.spec)
        try await write { db in
            let current = try Self.specs(of: record.tool, db)
            try check(ToolLoad(jobs: current + [record.spec], webservice: try Self.webserviceSpec(of: record.tool, db)))
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM jobs WHERE tool = ? AND name = ?", arguments: [record.tool.rawValue, record.name]) != nil {
                throw KilnError(
                    .conflict, "a job with the name '\(record.name)' exists already",
                    context: ["tool": record.tool.rawValue, "job": record.name])
            }
            try db.execute(
                sql: "INSERT INTO jobs (tool, name, spec, declared_at, last_tick) VALUES (?, ?, ?, ?, ?)",
                arguments: [record.tool.rawValue, record.name, spec, record.declaredAt, record.lastTick])
        }
    }

    /// Creates and replaces the given jobs (a replaced job keeps its history and last tick) and
    /// deletes the named ones, together.
    public func applyJobChanges(
        _ changes: JobChanges, of tool: ToolName, at time: Double,
        checking check: @escaping @Sendable (ToolLoad) throws(KilnError) -> Void = { _ in }
    ) async throws(KilnError) {
        var encoded: [(String, String)] = []
        for spec in changes.upserted { encoded.append((spec.name, try Self.encode(spec))) }
        let rows = encoded
        try await write { db in
            let touched = Set(changes.upserted.map(\.name) + changes.deleted)
            try check(
                ToolLoad(
                    jobs: try Self.specs(of: tool, db).filter { !touched.contains($0.name) } + changes.upserted,
                    webservice: try Self.webserviceSpec(of: tool, db)))
            for (name, spec) in rows {
                try db.execute(
                    sql: """
                        INSERT INTO jobs (tool, name, spec, declared_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT (tool, name) DO UPDATE SET spec = excluded.spec, declared_at = excluded.declared_at
                        """,
                    arguments: [tool.rawValue, name, spec, time])
            }
            for name in changes.deleted {
                try db.execute(sql: "DELETE FROM jobs WHERE tool = ? AND name = ?", arguments: [tool.rawValue, name])
            }
        }
    }

    /// Removes a job with its history. Returns whether there was one.
    @discardableResult
    public func removeJob(_ name: String, of tool: ToolName) async throws(KilnError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM jobs WHERE tool = ? AND name = ?", arguments: [tool.rawValue, name])
            return db.changesCount > 0
        }
    }

    public func job(_ name: String, of tool: ToolName) async throws(KilnError) -> JobRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE tool = ? AND name = ?", arguments: [tool.rawValue, name])
                .map(Self.job(from:))
        }
    }

    public func jobs(of tool: ToolName) async throws(KilnError) -> [JobRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE tool = ? ORDER BY name", arguments: [tool.rawValue]).map(Self.job(from:))
        }
    }

    public func allJobs() async throws(KilnError) -> [JobRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY tool, name").map(Self.job(from:))
        }
    }

    /// Queues a run (of a one-off, a restart, a continuous job's replica) and returns it with its id.
    public func createRun(_ run: JobRun) async throws(KilnError) -> JobRun {
        let runs = try await createRuns([run])
        guard let created = runs.first else {
            throw KilnError(.notFound, "Job '\(run.job)' does not exist", context: ["job": run.job])
        }
        return created
    }

    /// Queues several runs in one transaction; a run whose job no longer exists is left out.
    public func createRuns(_ runs: [JobRun]) async throws(KilnError) -> [JobRun] {
        try await write { db in
            var created: [JobRun] = []
            for run in runs { if let run = try Self.insert(run, db) { created.append(run) } }
            return created
        }
    }

    /// Claims ticks in one transaction (a thousand jobs due in one minute cost one disk sync). A
    /// tick at or before the job's last claimed tick is not claimed again: the answer holds only
    /// the runs queued now, each at most once per tick, also when two claims race.
    public func claimTicks(_ claims: [TickClaim], at time: Double) async throws(KilnError) -> [JobRun] {
        try await write { db in
            var queued: [JobRun] = []
            for claim in claims {
                try db.execute(
                    sql: "UPDATE jobs SET last_tick = ? WHERE tool = ? AND name = ? AND (last_tick IS NULL OR last_tick < ?)",
                    arguments: [claim.tick, claim.tool.rawValue, claim.job, claim.tick])
                guard db.changesCount > 0, claim.run else { continue }
                let run = JobRun(
                    tool: claim.tool, job: claim.job, trigger: claim.missed > 0 ? .catchUp : .schedule, tick: claim.tick,
                    missedTicks: claim.missed, queuedAt: time)
                if let run = try Self.insert(run, db) { queued.append(run) }
            }
            return queued
        }
    }

    /// Records a run's state; a finished run also trims its job's history.
    public func saveRun(_ run: JobRun) async throws(KilnError) {
        try await saveRuns([run])
    }

    public func saveRuns(_ runs: [JobRun]) async throws(KilnError) {
        var encoded: [(JobRun, String)] = []
        for run in runs { encoded.append((run, try Self.encode(run))) }
        let rows = encoded
        try await write { db in
            for (run, record) in rows {
                try db.execute(
                    sql: "UPDATE job_runs SET record = ?, finished = ? WHERE id = ?",
                    arguments: [record, run.isFinished, run.id])
                if run.isFinished {
                    try db.execute(
                        sql: """
                            DELETE FROM job_runs WHERE tool = ? AND job = ? AND finished = 1 AND id NOT IN
                                (SELECT id FROM job_runs WHERE tool = ? AND job = ? AND finished = 1 ORDER BY id DESC LIMIT ?)
                            """,
                        arguments: [run.tool.rawValue, run.job, run.tool.rawValue, run.job, Self.runHistoryLength])
                }
            }
        }
    }

    public func run(id: Int64) async throws(KilnError) -> JobRun? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT id, record FROM job_runs WHERE id = ?", arguments: [id]).map(Self.run(from:))
        }
    }

    /// A job's runs, the newest first.
    public func runs(of job: String, tool: ToolName, limit: Int = runHistoryLength) async throws(KilnError) -> [JobRun] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, record FROM job_runs WHERE tool = ? AND job = ? ORDER BY id DESC LIMIT ?",
                arguments: [tool.rawValue, job, limit]
            ).map(Self.run(from:))
        }
    }

    /// Every run not finished, the oldest first: what a restart of the platform carries on.
    public func unfinishedRuns() async throws(KilnError) -> [JobRun] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT id, record FROM job_runs WHERE finished = 0 ORDER BY id").map(Self.run(from:))
        }
    }

    /// Records a continuous job's replica; one of a job no longer declared is not recorded.
    public func saveJobReplica(_ replica: ReplicaRecord, job: String) async throws(KilnError) {
        let record = try Self.encode(replica)
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO job_replicas (tool, job, replica, record)
                    SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM jobs WHERE tool = ? AND name = ?)
                    ON CONFLICT (tool, job, replica) DO UPDATE SET record = excluded.record
                    """,
                arguments: [replica.tool.rawValue, job, replica.index, record, replica.tool.rawValue, job])
        }
    }

    public func removeJobReplicas(of job: String, tool: ToolName) async throws(KilnError) {
        try await write { db in
            try db.execute(sql: "DELETE FROM job_replicas WHERE tool = ? AND job = ?", arguments: [tool.rawValue, job])
        }
    }

    public func jobReplicas(of job: String, tool: ToolName) async throws(KilnError) -> [ReplicaRecord] {
        try await read { db in
            try String.fetchAll(
                db, sql: "SELECT record FROM job_replicas WHERE tool = ? AND job = ? ORDER BY replica", arguments: [tool.rawValue, job]
            ).map { try KilnJSONCoding.decoder.decode(ReplicaRecord.self, from: Data($0.utf8)) }
        }
    }

    /// Inserts `run` and returns it with its id; nil when its job does not exist.
    static func insert(_ run: JobRun, _ db: Database) throws -> JobRun? {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM jobs WHERE tool = ? AND name = ?", arguments: [run.tool.rawValue, run.job]) != nil
        else { return nil }
        try db.execute(
            sql: "INSERT INTO job_runs (tool, job, tick, finished, record) VALUES (?, ?, ?, 0, '{}')",
            arguments: [run.tool.rawValue, run.job, run.tick])
        var run = run
        run.id = db.lastInsertedRowID
        try db.execute(
            sql: "UPDATE job_runs SET record = ? WHERE id = ?",
            arguments: [String(decoding: try KilnJSONCoding.encoder.encode(run), as: UTF8.self), run.id])
        return run
    }

    static func specs(of tool: ToolName, _ db: Database) throws -> [JobSpec] {
        try String.fetchAll(db, sql: "SELECT spec FROM jobs WHERE tool = ?", arguments: [tool.rawValue])
            .map { try KilnJSONCoding.decoder.decode(JobSpec.self, from: Data($0.utf8)) }
    }

    static func job(from row: Row) throws -> JobRecord {
        let spec = try KilnJSONCoding.decoder.decode(JobSpec.self, from: Data((row["spec"] as String).utf8))
        return JobRecord(tool: try ToolName(row["tool"] as String), spec: spec, declaredAt: row["declared_at"], lastTick: row["last_tick"])
    }

    static func run(from row: Row) throws -> JobRun {
        var run = try KilnJSONCoding.decoder.decode(JobRun.self, from: Data((row["record"] as String).utf8))
        run.id = row["id"]
        return run
    }
}
