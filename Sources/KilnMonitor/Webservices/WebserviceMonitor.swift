import Foundation
import KilnBuilds
import KilnCore
import KilnFiles
import KilnFormats
import KilnRunner
import KilnStore
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Brings what runs back to what was declared: every declared webservice has its replicas
/// running and routed. Each replica's death is handled at once by its driver (it waits on its
/// process, no polling tick); a periodic pass removes routes that no live replica backs and
/// keeps logs under their size limit. At start-up it resumes every declaration, adopting the
/// servers that outlived the platform rather than starting them twice.
public actor WebserviceMonitor: Service, WebserviceControl {
    public struct Configuration: Sendable {
        public var policy = RestartPolicy()
        /// How long a new server may take to answer its health check.
        public var startTimeout: Duration = .seconds(30)
        /// How long a rolling restart keeps an old replica running after taking it out of the
        /// proxy: a proxy that hears of the change a moment later still reaches it meanwhile.
        public var drainPeriod: Duration = .seconds(1)
        /// How often routes and logs are checked.
        public var reconcileInterval: Duration = .seconds(5)
        public var logLimitBytes: UInt64 = 16 << 20
        /// Per replica; the replicas together count in `totals`, shared with the tool's continuous jobs.
        public var quota = WebserviceQuota()
        public var totals = JobQuota()
        /// Where tools' built images are (the `buildservice` type); nil refuses the type.
        public var images: ImageStore?
        /// Networks of their own for `buildservice` replicas, each listening on port 8000 as on
        /// Toolforge; nil: they share the host's, each on a port of its own (`PORT` says which).
        public var networks: ReplicaNetworks?
        public init() {}
    }

    let store: KilnStore
    let registrar: any BackendRegistrar
    let homeOf: @Sendable (ToolName) -> String
    let kilnExecutable: String
    let runtimeDirectory: RuntimeDirectory?
    let configuration: Configuration
    let logger: Logger
    let metrics: MonitorMetrics
    /// Told when a tool's webservice fails (with the reason) or comes back (nil), so that the
    /// proxy's "not running" page can say which.
    let onFailureChange: @Sendable (ToolName, String?) -> Void
    /// The tools' envvars, read at every replica's start.
    let environments: ToolEnvironments
    /// Where replicas run when not on this host.
    let grid: GridWebservices?
    var drivers: [ToolName: [any WebserviceReplicaDriver]] = [:]
    /// Rolling restarts under way, by tool: the new replicas' drivers are here (not in
    /// `drivers`) until every one serves.
    var rollouts: [ToolName: Rollout] = [:]
    var rolloutSerial = 0
    /// Why a tool's last restart did not replace its replicas, until it is started, stopped or
    /// restarted again (kept in memory: status says it while the old replicas run on).
    var restartFailures: [ToolName: String] = [:]

    /// A rolling restart: its state machine, and the new generation's drivers until they are
    /// the webservice's.
    struct Rollout {
        let serial: Int
        var machine: WebserviceRollout
        var incoming: [any WebserviceReplicaDriver]
    }

    public init(
        store: KilnStore, registrar: any BackendRegistrar, homeOf: @escaping @Sendable (ToolName) -> String,
        kilnExecutable: String, runtimeDirectory: RuntimeDirectory? = nil, configuration: Configuration = Configuration(),
        metrics: MonitorMetrics = .none, environments: ToolEnvironments = ToolEnvironments(), grid: GridWebservices? = nil,
        logger: Logger, onFailureChange: @escaping @Sendable (ToolName, String?) -> Void = { _, _ in }
    ) {
        self.grid = grid
        self.environments = environments
        self.runtimeDirectory = runtimeDirectory
        self.store = store
        self.registrar = registrar
        self.homeOf = homeOf
        self.kilnExecutable = kilnExecutable
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.onFailureChange = onFailureChange
    }

    // MARK: Service

    public func run() async throws {
        await resumeDeclared()
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.configuration.reconcileInterval)
                if Task.isCancelled { break }
                await self.reconcile()
            }
        }
        // A clean shutdown stops what it started; the declarations stay, so the next start-up
        // brings everything back. (After a crash the servers live on and are adopted instead.)
        for tool in Set(drivers.keys).union(rollouts.keys) { await stopDrivers(of: tool) }
    }

    /// Every declared webservice, at start-up: adopt each replica that still runs and answers,
    /// start the others; a replica that had failed stays failed.
    func resumeDeclared() async {
        let declared: [WebserviceRecord]
        do {
            declared = try await store.webservices()
        } catch {
            logger.error("cannot read the declared webservices", metadata: ["error": "\(error)"])
            return
        }
        // A webservice started before the monitor ran (the demo's) already has its drivers.
        for webservice in declared where drivers[webservice.tool] == nil {
            var records = (try? await store.replicas(of: webservice.tool)) ?? []
            if records.count > webservice.spec.replicas {
                records = await dropLeftovers(records, of: webservice)
            }
            if records.contains(where: { $0.phase == .failed }) {
                onFailureChange(webservice.tool, records.first { $0.phase == .failed }?.failedReason)
                continue
            }
            await launchDrivers(for: webservice, records: records, adopt: true)
        }
        await removeAbandonedNetworks()
        await reconcile()
    }

    /// Removes the networks of replicas that did not outlive the platform's last run.
    func removeAbandonedNetworks() async {
        guard let networks = configuration.networks else { return }
        var held = Set<Int>()
        for case let driver as ReplicaDriver in drivers.values.joined() {
            if let network = await driver.ownNetwork { held.insert(network.slot) }
        }
        let removed = await networks.removeAbandoned(keeping: held)
        if !removed.isEmpty {
            logger.notice("removed replicas' networks that nothing holds", metadata: ["slots": "\(removed)"])
        }
    }

    /// Takes away routes that the runner registered and no live replica backs any longer, and
    /// rotates logs that grew past their limit.
    func reconcile() async {
        var live = Set<Route>()
        for (_, replicas) in drivers { for driver in replicas { if let route = driver.liveRoute { live.insert(route) } } }
        // A rolling restart's new replicas register before they are the webservice's.
        for (_, rollout) in rollouts { for driver in rollout.incoming { if let route = driver.liveRoute { live.insert(route) } } }
        for route in (try? await store.webserviceRoutes()) ?? [] where !live.contains(route) {
            logger.notice("removing a route that no webservice replica backs", metadata: ["tool": "\(route.tool)", "backend": "\(route.backend)"])
            try? await registrar.deregister(route)
            try? await store.forgetWebserviceRoute(route)
        }
        for tool in drivers.keys {
            guard let files = await files(of: tool) else { continue }
            for stream in LogStream.allCases {
                do {
                    try LogFile(in: files, at: stream.webserviceLog).rotate(ifLargerThan: configuration.logLimitBytes)
                } catch {
                    logger.warning("cannot rotate a log", metadata: ["tool": "\(tool)", "error": "\(error)"])
                }
            }
        }
    }

    // MARK: WebserviceControl

    public func start(tool: ToolName, spec: WebserviceSpec) async throws(KilnError) -> WebserviceStatus {
        let existing = try await status(tool: tool)
        if existing.state != .stopped, existing.state != .failed {
            throw KilnError(
                .conflict, "the webservice of '\(tool)' is already running (\(existing.state.rawValue)); stop or restart it",
                context: ["tool": tool.rawValue])
        }
        await stopDrivers(of: tool)
        restartFailures[tool] = nil
        return try await declareAndStart(tool: tool, spec: spec)
    }

    public func restart(tool: ToolName) async throws(KilnError) -> WebserviceStatus {
        guard let record = try await store.webservice(of: tool) else {
            throw KilnError(.notFound, "the tool '\(tool)' has no webservice to restart; start one", context: ["tool": tool.rawValue])
        }
        guard rollouts[tool] == nil else {
            throw KilnError(
                .conflict, "the webservice of '\(tool)' is being restarted already; wait for that restart to end",
                context: ["tool": tool.rawValue])
        }
        // Taken at once (before any await), so a second restart is refused and a stop or start
        // meanwhile interrupts this one.
        rolloutSerial += 1
        let serial = rolloutSerial
        rollouts[tool] = Rollout(serial: serial, machine: WebserviceRollout(), incoming: [])
        do {
            return try await rollOut(record, serial: serial)
        } catch {
            if rollouts[tool]?.serial == serial { rollouts[tool] = nil }
            throw error
        }
    }

    public func stop(tool: ToolName) async throws(KilnError) -> WebserviceStatus {
        guard try await store.webservice(of: tool) != nil else {
            throw KilnError(.notFound, "the tool '\(tool)' has no webservice running", context: ["tool": tool.rawValue])
        }
        await stopDrivers(of: tool)
        restartFailures[tool] = nil
        try await store.removeWebservice(of: tool)
        await files(of: tool)?.removeFile(HomePath(platform: ServiceManifest.fileName))
        onFailureChange(tool, nil)
        logger.notice("webservice stopped", metadata: ["tool": "\(tool)"])
        return try await status(tool: tool)
    }

    public func replicaBackend(_ registration: ReplicaRegistration) async throws(KilnError) {
        // A rolling restart's new replicas register before they are the webservice's.
        let candidates = (drivers[registration.tool] ?? []) + (rollouts[registration.tool]?.incoming ?? [])
        let replica = candidates.first { $0.index == registration.replica }
        guard let driver = replica as? GridReplicaDriver else {
            throw KilnError(
                .notFound, "the tool '\(registration.tool)' has no replica \(registration.replica) on a grid",
                context: ["tool": registration.tool.rawValue, "replica": String(registration.replica)])
        }
        try await driver.report(registration)
    }

    public func status(tool: ToolName) async throws(KilnError) -> WebserviceStatus {
        let record = try await store.webservice(of: tool)
        var replicas = record == nil ? [] : try await store.replicas(of: tool)
        if let shown = rollouts[tool]?.machine.shown {
            // During a rolling restart: the generation that is the webservice's now.
            replicas = replicas.filter { shown.contains($0.index) }
        }
        var limits = record.map { ResourceLimits(memory: $0.spec.memory, cpu: $0.spec.cpu).enforcement } ?? [:]
        if let grid, record != nil {
            // Each replica is a grid job, held to its request by the grid on its host.
            limits = ["mem": "the grid (\(grid.backend.name)) on the replica's job", "cpu": "the grid (\(grid.backend.name)) on the replica's job"]
        }
        if record != nil, let account = try await store.tool(named: tool) {
            // Said where the maintainers look, as kiln serve says it at start.
            limits["user"] = account.unixUser.map { "\($0.name) (uid \($0.uid))" }
                ?? "single-user mode: the server's own user (uid \(geteuid())), not apart from other tools"
        }
        // A log the tool replaced with something unusable (a link, a FIFO) shows no tail.
        let errorLogTail = await files(of: tool).flatMap { try? LogFile(in: $0, at: LogStream.err.webserviceLog).lastLines(10) }
        return WebserviceStatus(
            tool: tool, record: record, replicas: replicas, limitEnforcement: limits, errorLogTail: errorLogTail ?? [],
            restartFailure: restartFailures[tool])
    }

    /// The tool's home, reached as its own (nil for a tool that no longer exists).
    func files(of tool: ToolName) async -> ConfinedDirectory? {
        guard let account = try? await store.tool(named: tool) else { return nil }
        return ConfinedDirectory(path: homeOf(tool), owner: FileOwner(account.unixUser))
    }

    // MARK: Drivers

    private func declareAndStart(tool: ToolName, spec: WebserviceSpec) async throws(KilnError) -> WebserviceStatus {
        let tool_ = try await store.tool(named: tool)
        guard let account = tool_ else {
            throw KilnError(.notFound, "no tool '\(tool)'", context: ["tool": tool.rawValue])
        }
        // Said early (before the launch's checks); checked again where it is declared.
        // The totals are the tool's job quota: its own where an operator gave it one.
        let (quota, totals) = (configuration.quota, try await store.jobQuota(of: tool) ?? configuration.totals)
        try quota.check(spec, jobs: try await store.jobs(of: tool).map(\.spec), totals: totals)
        let launch = launchPlan(for: account, spec: spec)
        try launch.check()
        let record = WebserviceRecord(tool: tool, spec: spec, declaredAt: Date().timeIntervalSince1970)
        try await store.declareWebservice(record) { load throws(KilnError) in try quota.check(spec, jobs: load.jobs, totals: totals) }
        var replicas: [ReplicaRecord] = []
        for index in 0..<spec.replicas {
            // A grid replica's port is its runner's pick on its host, said when it registers.
            let replica = ReplicaRecord(tool: tool, index: index, port: grid == nil ? try PortAllocator.freeLoopbackPort() : 0)
            try await store.saveReplica(replica)
            replicas.append(replica)
        }
        writeManifest(spec, tool: tool, owner: account.unixUser)
        onFailureChange(tool, nil)
        await launchDrivers(for: record, records: replicas, adopt: false)
        logger.notice("webservice starting", metadata: ["tool": "\(tool)", "type": "\(spec.type.name)", "replicas": "\(spec.replicas)"])
        return try await awaitSettled(tool: tool)
    }

    /// Waits until every replica serves, or one is down (backing off or failed), or the start
    /// timeout passes; then reports the status as it is.
    private func awaitSettled(tool: ToolName) async throws(KilnError) -> WebserviceStatus {
        let deadline = ContinuousClock.now + configuration.startTimeout + .seconds(2)
        while ContinuousClock.now < deadline {
            let replicas = try await store.replicas(of: tool)
            if replicas.allSatisfy({ $0.phase == .serving }) || replicas.contains(where: { $0.phase == .failed || $0.phase == .backingOff }) {
                break
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await status(tool: tool)
    }

    private func launchDrivers(for webservice: WebserviceRecord, records: [ReplicaRecord], adopt: Bool) async {
        guard let account = try? await store.tool(named: webservice.tool) else {
            logger.error("a declared webservice belongs to no tool", metadata: ["tool": "\(webservice.tool)"])
            return
        }
        let launch = launchPlan(for: account, spec: webservice.spec)
        var records = records
        // A declaration whose replica records are missing (never written, or fewer than wanted)
        // gets fresh ones, at indices no record has (a rolling restart leaves 2 and 3, say).
        let missing = max(0, webservice.spec.replicas - records.count)
        for index in WebserviceRollout.freshIndices(count: missing, avoiding: Set(records.map(\.index))) {
            guard let port = grid == nil ? try? PortAllocator.freeLoopbackPort() : 0 else { continue }
            records.append(ReplicaRecord(tool: webservice.tool, index: index, port: port))
        }
        var started: [any WebserviceReplicaDriver] = []
        for record in records.prefix(webservice.spec.replicas) {
            switch driver(of: record, launch: launch) {
            case .local(let driver):
                await driver.begin(adopting: adopt ? await survivor(record, launch: launch) : nil)
                started.append(driver)
            case .grid(let driver):
                await driver.begin(adopting: adopt)
                started.append(driver)
            }
        }
        drivers[webservice.tool] = started
    }

    /// The replica's process from before a restart of the platform, when it is still the same
    /// process and answers; one that runs but does not answer is stopped, so it is not doubled.
    private func survivor(_ record: ReplicaRecord, launch: WebserviceLaunch) async -> (pid: Int32, start: UInt64)? {
        guard let pid = record.pid, let start = record.processStart else { return nil }
        guard ProcessInspector.isAlive(pid: pid, start: start) else {
            // Its leader died while the platform was down; what is left of its group (workers
            // still holding the port) goes before a new one starts.
            ProcessInspector.signalGroup(pid, SIGKILL)
            return nil
        }
        let backend = ReplicaDriver.backend(of: record, ownNetwork: networks(for: launch.spec) != nil)
        if await HealthProbe.isHealthy(
            backend, path: launch.spec.healthCheckPath, host: "\(record.tool).localhost", owner: launch.backendOwner) {
            return (pid, start)
        }
        logger.warning("a replica from before the restart runs but does not answer; replacing it", metadata: ["tool": "\(record.tool)", "pid": "\(pid)"])
        await ProcessInspector.stopGroup(pid, start: start, grace: .seconds(3))
        return nil
    }

    /// Stops the tool's replicas, and the new ones of a rolling restart under way (which then
    /// ends, interrupted).
    func stopDrivers(of tool: ToolName) async {
        let current = drivers.removeValue(forKey: tool) ?? []
        let incoming: [any WebserviceReplicaDriver] = rollouts.removeValue(forKey: tool)?.incoming ?? []
        let replicas = current + incoming
        guard !replicas.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            for driver in replicas { group.addTask { await driver.stop() } }
        }
    }

    func replicaChanged(_ record: ReplicaRecord) {
        // A rolling restart's new replica that fails is the restart's failure, not the
        // webservice's: the old replicas still serve.
        if let rollout = rollouts[record.tool], rollout.incoming.contains(where: { $0.index == record.index }) { return }
        if record.phase == .failed {
            onFailureChange(record.tool, record.failedReason ?? "it failed")
        }
    }

    /// A replica's driver, by where replicas run.
    enum Driver {
        case local(ReplicaDriver)
        case grid(GridReplicaDriver)

        var any: any WebserviceReplicaDriver {
            switch self {
            case .local(let driver): driver
            case .grid(let driver): driver
            }
        }
    }

    /// The driver of `record`'s replica: on the grid when there is one, else on this host.
    func driver(of record: ReplicaRecord, launch: WebserviceLaunch) -> Driver {
        let onChange: @Sendable (ReplicaRecord) async -> Void = { [weak self] record in await self?.replicaChanged(record) }
        if let grid {
            return .grid(
                GridReplicaDriver(
                    record: record, launch: launch, grid: grid, policy: configuration.policy, store: store, registrar: registrar,
                    startTimeout: configuration.startTimeout, restarts: metrics.replicaRestarts, logger: logger, onChange: onChange))
        }
        return .local(
            ReplicaDriver(
                record: record, launch: launch, networks: networks(for: launch.spec), policy: configuration.policy, store: store,
                registrar: registrar, startTimeout: configuration.startTimeout, restarts: metrics.replicaRestarts, logger: logger,
                onChange: onChange))
    }

    /// Where the replicas of `spec` get networks of their own: a built image's server listens
    /// on port 8000, as on Toolforge; the platform's own types are told their port.
    func networks(for spec: WebserviceSpec) -> ReplicaNetworks? {
        switch spec.type.family {
        case .buildservice: configuration.networks
        case .python, .php, .node, .lighttpdPlain, .uwsgiPlain, .staticFiles, .command: nil
        }
    }

    func launchPlan(for tool: Tool, spec: WebserviceSpec) -> WebserviceLaunch {
        var launch = WebserviceLaunch(
            tool: tool.name, user: tool.unixUser, home: homeOf(tool.name), spec: spec, kilnExecutable: kilnExecutable,
            runtimeDirectory: runtimeDirectory, environments: environments)
        if spec.type.family == .buildservice {
            // The newest build of the image, found now: a new build is taken up at the next start.
            launch.builtImage = Result { () throws(KilnError) -> ImageLaunch in
                guard let images = configuration.images else { throw KilnError(.unavailable, "this platform has no build service: buildservice webservices cannot run") }
                return try images.manifest(of: spec.builtImage(of: tool.name), for: tool.name).launch
            }
        }
        return launch
    }

    func writeManifest(_ spec: WebserviceSpec, tool: ToolName, owner: UnixIdentity?) {
        let files = ConfinedDirectory(path: homeOf(tool), owner: FileOwner(owner))
        do {
            try files.write(Array(ServiceManifest.render(spec, tool: tool).utf8), to: HomePath(platform: ServiceManifest.fileName))
        } catch {
            logger.warning("cannot write service.manifest", metadata: ["tool": "\(tool)", "error": "\(error)"])
        }
    }
}
