/// What `webservice status` reports: the declaration, how each replica is doing, and, when the
/// webservice is down, why (the last exit and the last lines of its error log).
public struct WebserviceStatus: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        /// Not declared: `start` was never run, or `stop` was.
        case stopped
        /// Declared, and no replica serves yet.
        case starting
        /// Every replica serves.
        case running
        /// Some replicas serve, others are down and being restarted.
        case degraded
        /// Every replica is down and being restarted.
        case restarting
        /// The monitor gave up (too many failures in the window): `start` again to retry.
        case failed
    }

    public struct Replica: Sendable, Hashable, Codable {
        public var index: Int
        public var backend: String
        public var phase: ReplicaRecord.Phase
        public var pid: Int32?
        /// On a grid: the grid's job of the replica's current life.
        public var gridJob: String?
        public var startedAt: Double?
        public var restarts: Int
        public var lastExit: String?
        public var lastExitCode: Int32?
        public var lastExitAt: Double?

        public init(_ record: ReplicaRecord) {
            index = record.index
            backend = record.backend?.description ?? "127.0.0.1:\(record.port)"
            phase = record.phase
            pid = record.pid
            gridJob = record.gridJob?.id
            startedAt = record.startedAt
            restarts = record.restarts
            lastExit = record.lastExit?.description
            lastExitCode = record.lastExit?.code
            lastExitAt = record.lastExitAt
        }
    }

    public var tool: String
    public var state: State
    public var type: String?
    public var command: String?
    public var replicasWanted: Int
    public var memory: String?
    public var cpu: String?
    public var healthCheckPath: String?
    public var extraArguments: [String]
    public var replicas: [Replica]
    /// How the limits are enforced on this host (`mem`, `cpu`).
    public var limitEnforcement: [String: String]
    public var failedReason: String?
    /// Why the last `restart` did not replace the replicas (its new ones did not come up), while
    /// the replicas from before it still run; nil once a start, stop or restart succeeds.
    public var restartFailure: String?
    public var lastExit: String?
    public var lastExitCode: Int32?
    /// The last lines of the server's error log, when it is down or failed.
    public var errorLogTail: [String]
    public var declaredAt: Double?

    public init(
        tool: ToolName, record: WebserviceRecord?, replicas: [ReplicaRecord], limitEnforcement: [String: String], errorLogTail: [String],
        restartFailure: String? = nil
    ) {
        self.tool = tool.rawValue
        type = record?.spec.type.name
        command = record?.spec.command
        replicasWanted = record?.spec.replicas ?? 0
        memory = record.map { "\($0.spec.memory)" }
        cpu = record.map { "\($0.spec.cpu)" }
        healthCheckPath = record?.spec.healthCheckPath
        extraArguments = record?.spec.extraArguments ?? []
        declaredAt = record?.declaredAt
        self.replicas = replicas.map(Replica.init)
        self.limitEnforcement = record == nil ? [:] : limitEnforcement
        let failed = replicas.first { $0.phase == .failed }
        failedReason = failed?.failedReason
        let lastDown = replicas.filter { $0.lastExit != nil }.max { ($0.lastExitAt ?? 0) < ($1.lastExitAt ?? 0) }
        lastExit = lastDown?.lastExit?.description
        lastExitCode = lastDown?.lastExit?.code
        state = Self.state(record: record, replicas: replicas)
        self.restartFailure = record == nil ? nil : restartFailure
        // A failed restart's new servers said why in the log, though the old ones still serve.
        self.errorLogTail = (state == .running && self.restartFailure == nil) || state == .stopped ? [] : errorLogTail
    }

    static func state(record: WebserviceRecord?, replicas: [ReplicaRecord]) -> State {
        guard record != nil else { return .stopped }
        if replicas.contains(where: { $0.phase == .failed }) { return .failed }
        let serving = replicas.filter { $0.phase == .serving }.count
        let down = replicas.filter { $0.phase == .backingOff }.count
        if serving == replicas.count, serving > 0 { return .running }
        if serving > 0 { return .degraded }
        return down > 0 ? .restarting : .starting
    }
}

/// What the control plane asks of whoever runs webservices (the monitor).
public protocol WebserviceControl: Sendable {
    /// Declares and starts the tool's webservice; returns once every replica serves, or with the
    /// status that says why not. A webservice already running is an error (`restart` it).
    func start(tool: ToolName, spec: WebserviceSpec) async throws(KilnError) -> WebserviceStatus
    /// Deregisters every replica, then stops it, and forgets the declaration.
    func stop(tool: ToolName) async throws(KilnError) -> WebserviceStatus
    /// Starts the replicas again with the same declaration, clearing a failed state. On this
    /// host it is rolling: new replicas serve before the old ones are stopped, and when they do
    /// not come up the old ones stay and the status's `restartFailure` says why.
    func restart(tool: ToolName) async throws(KilnError) -> WebserviceStatus
    func status(tool: ToolName) async throws(KilnError) -> WebserviceStatus
    /// A grid replica's runner says where its server listens (or, `backend` nil, that it stopped
    /// serving); refused unless its credential is that replica's current one and the address is
    /// the execution host the grid says runs it.
    func replicaBackend(_ registration: ReplicaRegistration) async throws(KilnError)
}

/// What a webservice replica's runner on a grid's execution host tells the control plane.
public struct ReplicaRegistration: Sendable, Hashable {
    public var tool: ToolName
    public var replica: Int
    /// The credential the platform issued for this replica's current life.
    public var credential: String
    /// Where its server answers; nil: it no longer does (the runner is stopping).
    public var backend: HostPort?
    /// The address the request came from, as the control plane's socket saw it.
    public var peer: String?

    public init(tool: ToolName, replica: Int, credential: String, backend: HostPort?, peer: String?) {
        self.tool = tool
        self.replica = replica
        self.credential = credential
        self.backend = backend
        self.peer = peer
    }
}

public enum LogStream: String, Sendable, Hashable, Codable, CaseIterable {
    case out, err

    /// Where a webservice's stream is kept in its tool's home: `logs/web.out`, `logs/web.err`.
    public var webserviceLog: HomePath { HomePath(platform: "logs", "web." + rawValue) }
}

/// Where a runner registers the backends of what it starts: the same route registry the API
/// writes, so a registration reaches every proxy by push.
public protocol BackendRegistrar: Sendable {
    func register(_ route: Route) async throws(KilnError)
    func deregister(_ route: Route) async throws(KilnError)
}
