/// A webservice as the store keeps it: the declaration, and whether the monitor gave up on it.
public struct WebserviceRecord: Sendable, Hashable, Codable {
    public var tool: ToolName
    public var spec: WebserviceSpec
    /// Seconds since 1970 of the `start` that declared it.
    public var declaredAt: Double

    public init(tool: ToolName, spec: WebserviceSpec, declaredAt: Double) {
        self.tool = tool
        self.spec = spec
        self.declaredAt = declaredAt
    }
}

/// One replica as the store keeps it: enough to adopt its process after a restart of the platform
/// (pid, the process's start time, port) and to carry its restart history across one.
public struct ReplicaRecord: Sendable, Hashable, Codable {
    public enum Phase: String, Sendable, Hashable, Codable, CaseIterable {
        case starting, serving, backingOff = "backing-off", failed, stopped
    }

    public var tool: ToolName
    public var index: Int
    public var port: Int
    public var phase: Phase
    public var pid: Int32?
    /// The process's start time in clock ticks since boot (`/proc/PID/stat`), so that a recycled
    /// pid is never mistaken for the replica.
    public var processStart: UInt64?
    public var startedAt: Double?
    public var failureTimes: [Double]
    public var restarts: Int
    public var lastExit: ExitStatus?
    public var lastExitAt: Double?
    public var failedReason: String?
    /// On a grid: the grid job that runs this replica's current life (`kiln run-webservice`).
    public var gridJob: JobHandle?
    /// On a grid: where the replica's runner registered its server (the execution host's
    /// address and a port there); nil while unregistered. On this host: the address of the
    /// replica's network of its own (`ReplicaNetwork`), or nil for one that listens at
    /// 127.0.0.1:`port`.
    public var backend: HostPort?
    /// On a grid: the SHA-256 of the credential issued to the current life's runner, which may
    /// register this replica's backend and nothing else. Kept so a restart of the platform
    /// still knows the runner of a life it adopts.
    public var credentialDigest: String?

    public init(
        tool: ToolName, index: Int, port: Int, phase: Phase = .starting, pid: Int32? = nil, processStart: UInt64? = nil,
        startedAt: Double? = nil, failureTimes: [Double] = [], restarts: Int = 0, lastExit: ExitStatus? = nil,
        lastExitAt: Double? = nil, failedReason: String? = nil
    ) {
        self.tool = tool
        self.index = index
        self.port = port
        self.phase = phase
        self.pid = pid
        self.processStart = processStart
        self.startedAt = startedAt
        self.failureTimes = failureTimes
        self.restarts = restarts
        self.lastExit = lastExit
        self.lastExitAt = lastExitAt
        self.failedReason = failedReason
    }
}
