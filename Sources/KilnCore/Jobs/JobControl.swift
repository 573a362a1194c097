/// What the control-plane API asks of the job runner. Every call is for one tool, which the API
/// has authorized: a tool sees and touches only its own jobs.
public protocol JobControl: Sendable {
    /// Declares a new job and starts it as its kind says (a one-off now, a schedule at its next
    /// tick, a continuous job's replicas now). Returns its status and the warnings (retired image).
    func create(tool: ToolName, spec: JobSpec) async throws(KilnError) -> (status: JobStatus, warnings: [String])
    func list(tool: ToolName) async throws(KilnError) -> [JobStatus]
    /// A missing job is `notFound` with the message "job 'NAME' does not exist".
    func show(tool: ToolName, job: String) async throws(KilnError) -> JobStatus
    /// Stops what runs of it and forgets it.
    func delete(tool: ToolName, job: String) async throws(KilnError)
    /// Deletes every job of the tool; returns their names.
    func flush(tool: ToolName) async throws(KilnError) -> [String]
    /// Stops what runs of the job and starts it again now (a schedule keeps its schedule).
    func restart(tool: ToolName, job: String) async throws(KilnError) -> JobStatus
    /// Makes the tool's jobs match `specs` (or only the job `only`); with `dryRun` says what would
    /// change and changes nothing.
    func load(tool: ToolName, specs: [JobSpec], only: String?, dryRun: Bool) async throws(KilnError) -> JobLoadPlan
    /// Returns once run `runID` of the job is finished, or `timeout` has passed (then as it is).
    func waitForRun(tool: ToolName, job: String, runID: Int64, timeout: Duration) async throws(KilnError) -> JobRun
    func quota(tool: ToolName) async throws(KilnError) -> JobQuotaReport
    func images() -> [JobImageReport]
    /// The job's log files (nil streams are discarded).
    func logPaths(tool: ToolName, job: String) async throws(KilnError) -> JobLogPaths
}

/// What `quota` shows: the limits and what the tool uses of them.
public struct JobQuotaReport: Sendable, Hashable, Codable {
    public var quota: JobQuota
    public var usage: JobQuota.Usage

    public init(quota: JobQuota, usage: JobQuota.Usage) {
        self.quota = quota
        self.usage = usage
    }
}

/// One line of `images`: the name users write, what it is on Toolforge, and what runs it here.
public struct JobImageReport: Sendable, Hashable, Codable {
    public var shortName: String
    public var containerImage: String
    public var retired: Bool
    /// The host's program and version that runs it; nil when this host lacks the runtime.
    public var hostRuntime: String?

    public init(shortName: String, containerImage: String, retired: Bool, hostRuntime: String?) {
        self.shortName = shortName
        self.containerImage = containerImage
        self.retired = retired
        self.hostRuntime = hostRuntime
    }
}

/// What `load` does (or, dry, would do): by job name.
public struct JobLoadPlan: Sendable, Hashable, Codable {
    public var created: [String]
    public var changed: [String]
    public var deleted: [String]
    public var unchanged: [String]
    public var warnings: [String]

    public init(created: [String] = [], changed: [String] = [], deleted: [String] = [], unchanged: [String] = [], warnings: [String] = []) {
        self.created = created
        self.changed = changed
        self.deleted = deleted
        self.unchanged = unchanged
        self.warnings = warnings
    }

    /// Compares the tool's jobs with the file's. With `only`, the plan touches that job alone
    /// (created, changed, or deleted when the file no longer has it).
    public init(current: [JobSpec], wanted: [JobSpec], only: String? = nil) {
        let currentByName = Dictionary(current.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let wantedNames = Set(wanted.map(\.name))
        self.init()
        for spec in wanted where only == nil || spec.name == only {
            switch currentByName[spec.name] {
            case nil: created.append(spec.name)
            case let existing? where existing == spec: unchanged.append(spec.name)
            case _?: changed.append(spec.name)
            }
        }
        for spec in current where !wantedNames.contains(spec.name) && (only == nil || spec.name == only) {
            deleted.append(spec.name)
        }
    }

    public var isEmpty: Bool { created.isEmpty && changed.isEmpty && deleted.isEmpty }
}
