import Foundation

/// A job as `list`, `show` and the API report it: the declaration with its defaults filled in, and
/// where it stands, in the words Toolforge's `jobs` uses (its users have scripts around them).
public struct JobStatus: Sendable, Hashable, Codable {
    public var name: String
    public var command: String
    /// normal, schedule or continuous.
    public var jobType: String
    public var image: String
    public var schedule: String?
    /// The schedule as it fires (a nickname spread to its minute).
    public var scheduleExpression: String?
    public var timeZone: String?
    public var continuous: Bool
    public var filelog: Bool
    public var outputLog: String?
    public var errorLog: String?
    public var retry: Int
    public var memory: String
    public var cpu: String
    public var emails: String
    public var mount: String
    public var timeout: Int?
    public var port: Int?
    /// tcp (the only one served here) when the job has a port.
    public var portProtocol: String?
    public var replicas: Int?
    public var healthCheckScript: String?
    /// The declared check in Toolforge's words ("http: /healthz", "script: ./check.sh"); nil for none.
    public var healthCheck: String?
    /// Where other tools' jobs reach a continuous job's port.
    public var address: String?
    /// One word or phrase: Pending, Running, Completed, Failed, Timed out, Cancelled, Restarting,
    /// Waiting for scheduled time, Last schedule time: …
    public var status: String
    public var hints: String
    public var nextRun: Double?
    /// The latest runs, newest first.
    public var runs: [JobRun]
    /// Where a grid runs its unfinished runs (job id, execution host, state); empty off a grid.
    public var gridPlacements: [GridPlacement] = []
    public var replicaStates: [ReplicaRecord]
    /// The declaration as stored (what `dump` writes back).
    public var spec: JobSpec

    public init(record: JobRecord, home: String, runs: [JobRun], replicaStates: [ReplicaRecord], address: String?) {
        let spec = record.spec
        self.spec = spec
        name = spec.name
        command = spec.command
        jobType = spec.kind.rawValue
        image = spec.image
        schedule = spec.schedule
        let cron = try? record.cronSchedule()
        scheduleExpression = cron?.expression
        timeZone = spec.schedule == nil ? nil : spec.timeZone ?? "UTC"
        continuous = spec.continuous
        filelog = spec.filelog
        // A declaration stored before paths were confined may name one outside the home: shown
        // as "-", since nothing is ever written there.
        let logs = try? JobLogPaths(spec: spec, tool: record.tool, home: home)
        outputLog = logs?.outputPath
        errorLog = logs?.errorPath
        retry = spec.retry
        memory = spec.effectiveMemory.description
        cpu = spec.effectiveCPU.description
        emails = spec.emails.rawValue
        mount = spec.mount.rawValue
        timeout = spec.continuous ? nil : spec.effectiveTimeout
        port = spec.port
        portProtocol = spec.port == nil ? nil : spec.portProtocol.rawValue
        replicas = spec.continuous ? (spec.replicas ?? 1) : nil
        healthCheckScript = spec.healthCheckScript
        healthCheck = spec.healthCheck?.declared
        self.address = address
        self.runs = runs
        self.replicaStates = replicaStates
        nextRun = nil
        let latest = runs.first
        switch spec.kind {
        case .normal:
            status = latest.map(Self.words(for:)) ?? "Pending"
            hints = latest.map(Self.hint(for:)) ?? ""
        case .schedule:
            if let cron { nextRun = record.ticks(of: cron).peekNext()?.timeIntervalSince1970 }
            if let latest, !latest.isFinished {
                status = Self.words(for: latest)
            } else if let latest {
                status = "Last schedule time: \(Self.timestamp(latest.tick ?? latest.queuedAt))"
            } else {
                status = "Waiting for scheduled time"
            }
            var hint = latest.map { "Last run \(Self.hint(for: $0))" } ?? "Never run yet."
            if let nextRun { hint += " Next run at \(Self.timestamp(nextRun))." }
            hints = hint
        case .continuous:
            let wanted = spec.replicas ?? 1
            let serving = replicaStates.filter { $0.phase == .serving }.count
            if let failed = replicaStates.first(where: { $0.phase == .failed }) {
                status = "Failed"
                hints = failed.failedReason ?? "it died too often"
            } else if serving < wanted, let waiting = runs.first(where: { $0.phase == .waiting }) {
                status = "Waiting"
                hints = "\(serving) of \(wanted) replicas running; " + waiting.summary
            } else if serving == wanted {
                status = "Running"
                hints = Self.restartHint(replicaStates)
            } else if replicaStates.contains(where: { $0.phase == .backingOff }) {
                status = "Restarting"
                let last = replicaStates.compactMap(\.lastExit).first
                hints = "\(serving) of \(wanted) replicas running" + (last.map { "; last exit: \($0)" } ?? "")
            } else {
                status = replicaStates.isEmpty ? "Not running" : "Starting"
                hints = "\(serving) of \(wanted) replicas running"
            }
        }
    }

    /// "Restarted 2 times. Last restart at …: unhealthy: its health check failed …": how many
    /// times the replicas were started again, and why the last time (a death, a failed check).
    static func restartHint(_ replicas: [ReplicaRecord]) -> String {
        let restarts = replicas.map(\.restarts).reduce(0, +)
        guard restarts > 0 else { return "" }
        var hint = "Restarted \(restarts) times."
        let last = replicas.filter { $0.lastExit != nil }.max { ($0.lastExitAt ?? 0) < ($1.lastExitAt ?? 0) }
        if let last, let exit = last.lastExit {
            hint += " Last restart" + (last.lastExitAt.map { " at \(timestamp($0))" } ?? "") + ": \(exit)."
        }
        return hint
    }

    static func words(for run: JobRun) -> String {
        switch run.phase {
        case .queued: return "Pending"
        case .running: return "Running"
        case .retrying: return "Retrying"
        case .waiting: return "Waiting"
        case .finished:
            switch run.outcome?.result {
            case .succeeded: return "Completed"
            case .failed: return "Failed"
            case .timedOut: return "Timed out"
            case .cancelled, nil: return "Cancelled"
            }
        }
    }

    static func hint(for run: JobRun) -> String {
        var text = run.summary
        if run.attempt > 1 { text += " after \(run.attempt) attempts" }
        if let ended = run.endedAt { text += " at \(timestamp(ended))" }
        return text + "."
    }

    public static func timestamp(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}

/// Where a job's output goes: `~/NAME.out` and `~/NAME.err` by default (as on Toolforge), or the
/// paths given, always inside the tool's home (`HomePath`); nowhere without file log.
public struct JobLogPaths: Sendable, Hashable {
    public var output: HomePath?
    public var error: HomePath?
    public let home: String

    /// Refuses (naming the field) a path that leaves the home.
    public init(spec: JobSpec, tool: ToolName, home: String) throws(KilnError) {
        self.home = home
        guard spec.filelog else {
            output = nil
            error = nil
            return
        }
        func resolve(_ given: String?, field: String, default name: String) throws(KilnError) -> HomePath {
            guard let given, !given.isEmpty else { return try HomePath(resolving: name, home: home, tool: tool, field: field) }
            let path = try HomePath(resolving: given, home: home, tool: tool, field: field)
            if path.components.isEmpty {
                throw KilnError(
                    .badRequest, "\(field) '\(given)' names the tool's home itself: give a file in it",
                    context: ["field": field, "value": given, "job": spec.name])
            }
            return path
        }
        output = try resolve(spec.filelogStdout, field: "filelog-stdout", default: spec.name + ".out")
        error = try resolve(spec.filelogStderr, field: "filelog-stderr", default: spec.name + ".err")
    }

    /// The output log's path on this host.
    public var outputPath: String? { output?.absolute(in: home) }
    /// The error log's path on this host.
    public var errorPath: String? { error?.absolute(in: home) }
}
