/// One job as a grid's queue listing shows it.
public struct GridJobEntry: Sendable, Hashable {
    /// The grid's job id (an array job's task: SGE's job number with `task`, Slurm's `123_4`).
    public var jobID: String
    public var state: GridJobState
    /// The execution host, once placed.
    public var host: String?
    /// The queue or partition.
    public var queue: String?
    public var name: String?
    public var owner: String?
    /// An array job's task or range of tasks, as the grid wrote it.
    public var task: String?

    public init(
        jobID: String, state: GridJobState, host: String? = nil, queue: String? = nil, name: String? = nil,
        owner: String? = nil, task: String? = nil
    ) {
        self.jobID = jobID
        self.state = state
        self.host = host
        self.queue = queue
        self.name = name
        self.owner = owner
        self.task = task
    }
}
