/// What a tool's maintainers are told when a run of a job starts or ends, if its `emails`
/// setting asks (`all` also mails each start, as Toolforge's emailer does).
public struct JobNotice: Sendable, Hashable {
    public enum Event: String, Sendable, Hashable {
        case started, ended
    }

    public var event: Event
    public var tool: ToolName
    public var maintainers: [String]
    public var job: String
    public var run: JobRun
    /// The last lines of the run's output and error logs (empty without file log).
    public var outputTail: [String]
    public var errorTail: [String]

    public init(
        tool: ToolName, maintainers: [String], job: String, run: JobRun, outputTail: [String], errorTail: [String],
        event: Event = .ended
    ) {
        self.event = event
        self.tool = tool
        self.maintainers = maintainers
        self.job = job
        self.run = run
        self.outputTail = outputTail
        self.errorTail = errorTail
    }

    /// The run failed in any way that counts (a non-zero exit, a signal, a timeout, a start
    /// that could not be made).
    public var isFailure: Bool {
        if let outcome = run.outcome { return outcome.isFailure }
        return !(run.lastStatus?.isSuccess ?? true)
    }

    public var subject: String {
        switch event {
        case .started: "[kiln] \(tool)/\(job): run \(run.id) started"
        case .ended: "[kiln] \(tool)/\(job): " + (isFailure ? "run \(run.id) failed" : "run \(run.id) \(run.summary)")
        }
    }

    public var body: String {
        switch event {
        case .started: startBody
        case .ended: endBody
        }
    }

    private var footer: String {
        "You get this mail because the job's `emails` setting asks for it; change it with `kiln jobs load` or `kiln jobs run --emails`."
    }

    private var startBody: String {
        let lines = [
            "The job '\(job)' of the tool '\(tool)' started a run.", "",
            "Run:         \(run.id)" + (run.replica.map { " (replica \($0))" } ?? ""),
            "Started:     \(run.startedAt.map(JobStatus.timestamp) ?? "-")",
            "Attempt:     \(max(run.attempt, 1))",
            "Trigger:     \(run.trigger.rawValue)" + (run.missedTicks > 0 ? " (\(run.missedTicks) missed ticks folded in)" : ""),
            "", "You are mailed again when it ends.", "", footer,
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    private var endBody: String {
        var lines = [
            "The job '\(job)' of the tool '\(tool)' ended.", "",
            "Result:      \(run.summary)",
            "Exit status: \(run.lastStatus.map { "\($0)" } ?? "none (it did not start)")",
            "Attempts:    \(max(run.attempt, run.outcome?.attempts ?? 0))",
            "Started:     \(run.startedAt.map(JobStatus.timestamp) ?? "-")",
            "Ended:       \(run.endedAt.map(JobStatus.timestamp) ?? "-")",
            "Trigger:     \(run.trigger.rawValue)" + (run.missedTicks > 0 ? " (\(run.missedTicks) missed ticks folded in)" : ""),
        ]
        if !outputTail.isEmpty { lines += ["", "Last lines of its output:"] + outputTail.map { "  " + $0 } }
        if !errorTail.isEmpty { lines += ["", "Last lines of its error log:"] + errorTail.map { "  " + $0 } }
        lines += ["", footer]
        return lines.joined(separator: "\n") + "\n"
    }
}

extension JobSpec.Emails {
    /// Whether `notice` is mailed: `all` every start and end, `onfinish` every end, `onfailure`
    /// the ends that failed.
    public func wants(_ notice: JobNotice) -> Bool {
        switch (self, notice.event) {
        case (.none, _): false
        case (.all, _): true
        case (.onfinish, .started), (.onfailure, .started): false
        case (.onfinish, .ended): true
        case (.onfailure, .ended): notice.isFailure
        }
    }
}

/// Where a continuous job's port is reached by other tools' jobs: an address of the loopback
/// network that is the job's own, derived from its tool and name (so it stays across restarts).
public enum JobAddress {
    public static func host(tool: ToolName, job: String) -> String {
        var hash = StableHash("\(tool.rawValue)/\(job)")
        // 127.1.0.1 to 127.254.255.254: never 127.0.0.x, which other servers use.
        return "127.\(hash.next(below: 254) + 1).\(hash.next(below: 256)).\(hash.next(below: 254) + 1)"
    }
}
