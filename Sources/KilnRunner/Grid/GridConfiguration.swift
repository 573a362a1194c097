/// How the platform talks to a batch grid: where to submit, with what environment the grid's
/// commands run, and how often and how patiently it asks after a job.
public struct GridConfiguration: Sendable, Hashable {
    /// The queue (SGE, `-q`) or partition (Slurm, `--partition`); nil for the grid's default.
    public var queue: String?
    /// SGE's parallel environment for jobs that ask for more than one CPU (`-pe NAME N`).
    public var parallelEnvironment: String
    /// The environment of every grid command (PATH, SGE_ROOT, SGE_CELL, SLURM_CONF), and
    /// nothing of the platform's own: a submission as a tool carries none of the server's secrets.
    public var commandEnvironment: [String: String]
    /// The longest any grid command may take; past it the grid counts as unreachable.
    public var commandTimeout: Duration
    /// How often a waiting attempt looks for its end (its exit file, then the grid's queue).
    public var pollInterval: Duration
    /// The longest between two looks while the grid cannot be reached (the poll doubles up to it).
    public var unreachablePollInterval: Duration
    /// How old a queue listing may be when it answers another waiter (one listing serves all the
    /// attempts waiting at once).
    public var listingMaximumAge: Duration
    /// How long after the grid stops listing a job its exit file or accounting may still come
    /// (accounting is flushed, shared homes cache) before its end is called unknown.
    public var accountingPatience: Duration
    /// Added to a run's timeout for the grid's hard time limit: the monitor stops a run at its
    /// timeout itself; the grid's limit only backs it up while the platform is down.
    public var timeLimitMargin: Duration
    /// How long a job may stay listed on a host the grid no longer hears from before the
    /// platform removes it itself (SGE's own reschedule_unknown usually comes first).
    public var lostHostPatience: Duration = .seconds(60)

    public init(
        queue: String? = nil, parallelEnvironment: String = "smp", commandEnvironment: [String: String],
        commandTimeout: Duration = .seconds(30), pollInterval: Duration = .seconds(1),
        unreachablePollInterval: Duration = .seconds(10), listingMaximumAge: Duration = .milliseconds(500),
        accountingPatience: Duration = .seconds(20), timeLimitMargin: Duration = .seconds(60)
    ) {
        self.queue = queue
        self.parallelEnvironment = parallelEnvironment
        self.commandEnvironment = commandEnvironment
        self.commandTimeout = commandTimeout
        self.pollInterval = pollInterval
        self.unreachablePollInterval = unreachablePollInterval
        self.listingMaximumAge = listingMaximumAge
        self.accountingPatience = accountingPatience
        self.timeLimitMargin = timeLimitMargin
    }

    /// The programs' folders, and nothing else.
    public static let defaultPath = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"

    /// Son of Grid Engine as Debian installs it (`SGE_ROOT=/var/lib/gridengine`, cell `default`).
    public static func gridEngine(
        queue: String? = nil, root: String = "/var/lib/gridengine", cell: String = "default"
    ) -> GridConfiguration {
        GridConfiguration(
            queue: queue, commandEnvironment: ["PATH": defaultPath, "SGE_ROOT": root, "SGE_CELL": cell, "LANG": "C"])
    }

    /// Slurm as Debian installs it (`/etc/slurm/slurm.conf`).
    public static func slurm(partition: String? = nil, configuration: String? = nil) -> GridConfiguration {
        var environment = ["PATH": defaultPath, "LANG": "C"]
        if let configuration { environment["SLURM_CONF"] = configuration }
        return GridConfiguration(queue: partition, commandEnvironment: environment)
    }
}
