/// An attempt that a batch grid (Son of Grid Engine, Slurm) runs: what the platform keeps of it
/// in the attempt's handle, so that a restarted platform still finds its files and cancels it as
/// the tool, and what `jobs show` says of it (the grid's job id, queue and execution host).
public struct GridPlacement: Sendable, Hashable, Codable {
    /// The grid's own id of the job (SGE's job number, Slurm's job id).
    public var jobID: String
    /// The queue (SGE) or partition (Slurm) it was submitted to; nil for the grid's default.
    public var queue: String?
    /// The execution host, once the grid has placed it.
    public var host: String?
    /// The grid's state in Kiln's words (Pending, Running, …) when last asked.
    public var state: String?
    /// Why it waits, as the grid says (a pending reason), when last asked.
    public var reason: String?
    /// The tool's user it was submitted as (and is cancelled as); nil in single-user mode.
    public var user: UnixIdentity?
    /// The tool's home, where the attempt's wrapper, environment and exit files are.
    public var home: String
    /// The name of the attempt's files in the home's `.kiln/grid/` (`run-12.1`).
    public var attempt: String
    /// The memory it was submitted with, for an end the grid calls out-of-memory.
    public var memory: MemorySize?

    // `jobId`, not `jobID`: the API's JSON is snake_case both ways (`job_id`), which comes back
    // as `jobId`; the store's plain JSON keeps the same name.
    enum CodingKeys: String, CodingKey {
        case jobID = "jobId"
        case queue, host, state, reason, user, home, attempt, memory
    }

    public init(
        jobID: String, queue: String? = nil, host: String? = nil, state: String? = nil, reason: String? = nil,
        user: UnixIdentity?, home: String, attempt: String, memory: MemorySize? = nil
    ) {
        self.memory = memory
        self.jobID = jobID
        self.queue = queue
        self.host = host
        self.state = state
        self.reason = reason
        self.user = user
        self.home = home
        self.attempt = attempt
    }
}
