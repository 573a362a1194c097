/// One run of a job, as the store keeps it: a one-off's only run, a scheduled job's run for one
/// tick, or one life of a continuous job's replica. The record is the run's history entry and,
/// while it is not finished, what the runner needs to carry it on after a restart of the platform.
public struct JobRun: Sendable, Hashable, Codable {
    public enum Phase: String, Sendable, Hashable, Codable {
        case queued, running, retrying, finished
        /// Its backend could not be reached (a grid down): it is submitted again later.
        case waiting
    }

    /// Why the run was started.
    public enum Trigger: String, Sendable, Hashable, Codable {
        case run, schedule, catchUp = "catch-up", restart, continuous
    }

    /// Assigned by the store.
    public var id: Int64
    public var tool: ToolName
    public var job: String
    public var trigger: Trigger
    /// The scheduled tick it runs for (seconds since 1970); nil for other runs.
    public var tick: Double?
    /// Ticks missed while the platform was down and folded into this run.
    public var missedTicks: Int
    /// The continuous job's replica it is a life of.
    public var replica: Int?
    public var phase: Phase
    public var attempt: Int
    public var queuedAt: Double
    public var startedAt: Double?
    public var endedAt: Double?
    /// The running attempt as the backend knows it.
    public var handle: JobHandle?
    /// When the running attempt's time is up; when the next attempt starts (retrying).
    public var deadline: Double?
    public var retryAt: Double?
    /// Why a waiting run waits (the backend's words), for `jobs show`.
    public var waitReason: String?
    /// The last attempt's end.
    public var lastStatus: ExitStatus?
    public var outcome: JobRunLifecycle.Outcome?

    public init(
        id: Int64 = 0, tool: ToolName, job: String, trigger: Trigger, tick: Double? = nil, missedTicks: Int = 0,
        replica: Int? = nil, phase: Phase = .queued, attempt: Int = 0, queuedAt: Double
    ) {
        self.id = id
        self.tool = tool
        self.job = job
        self.trigger = trigger
        self.tick = tick
        self.missedTicks = missedTicks
        self.replica = replica
        self.phase = phase
        self.attempt = attempt
        self.queuedAt = queuedAt
    }

    public var isFinished: Bool { phase == .finished }

    /// How it ended, in words (history, `show`, emails).
    public var summary: String {
        switch phase {
        case .queued: return "queued"
        case .running: return "running (attempt \(attempt))"
        case .retrying: return "retrying: \(lastStatus.map { "\($0)" } ?? "failed")"
        case .waiting: return "waiting: \(waitReason ?? "its backend cannot be reached")"
        case .finished:
            guard let outcome else { return "finished" }
            let status = outcome.status.map { ": \($0)" } ?? ""
            switch outcome.result {
            case .succeeded: return "succeeded"
            case .failed: return "failed\(status)"
            case .timedOut: return "timed out\(status)"
            case .cancelled: return "cancelled\(status)"
            }
        }
    }
}

/// A run's attempt as its backend knows it: enough to ask after it, cancel it, or adopt it after
/// a restart of the platform.
public struct JobHandle: Sendable, Hashable, Codable {
    /// The backend that runs it (`local`, `gridengine`, `slurm`).
    public var backend: String
    /// The backend's id for it: the process group's leader pid for the local backend, the job id
    /// of a grid.
    public var id: String
    /// The local backend's process start time (`/proc/PID/stat`), so a recycled pid is never
    /// taken for the run.
    public var processStart: UInt64?
    /// Where the local backend's wrapper writes the exit status, so that a run that ended while
    /// the platform was down still reports how.
    public var exitFile: String?
    /// A grid's attempt: its job id, where it runs, and its files in the tool's home. Absent
    /// from handles stored before grids (and from the local backend's), which decode as before.
    public var grid: GridPlacement?

    public init(backend: String, id: String, processStart: UInt64? = nil, exitFile: String? = nil, grid: GridPlacement? = nil) {
        self.backend = backend
        self.id = id
        self.processStart = processStart
        self.exitFile = exitFile
        self.grid = grid
    }
}
