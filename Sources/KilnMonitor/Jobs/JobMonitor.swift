import Foundation
import KilnBuilds
import KilnCore
import KilnFiles
import KilnRunner
import KilnStore
import Logging
import ServiceLifecycle

/// Runs tools' jobs as they were declared: one-off runs at once, scheduled runs at each tick of
/// their schedule (claimed in the store before they start, so no tick ever runs twice), and
/// continuous jobs' replicas all the time. Runs go to a `JobBackend` (the local supervisor by
/// default). At start-up it carries on what was going: runs still running are adopted, runs
/// waiting for a retry wait on, a tick missed while the platform was down runs once.
public actor JobMonitor: Service {
    public struct Configuration: Sendable {
        public var quota = JobQuota()
        public var catalogue = JobImageCatalogue.standard
        public var runtimes = HostRuntimes.shared
        /// Where tools' built images are (`image: tool-TOOL/NAME:latest`); nil refuses them.
        public var images: ImageStore?
        public var policy = RestartPolicy()
        /// How long a continuous job's replica may take to become ready.
        public var startTimeout: Duration = .seconds(30)
        /// How continuous jobs' replicas' health is asked once ready (Toolforge's liveness probe:
        /// every 10 s, 5 s each, restarted after 3 failures in a row).
        public var probes = ProbePolicy()
        /// Lines of output put in a mail.
        public var mailLines = 20
        public init() {}
    }

    let store: KilnStore
    let backend: any JobBackend
    let clock: any JobClock
    let mailer: (any JobMailer)?
    let homeOf: @Sendable (ToolName) -> String
    let configuration: Configuration
    let logger: Logger
    let recorder: RunRecorder
    let metrics: MonitorMetrics
    /// The tools' envvars, read at every attempt's start.
    let environments: ToolEnvironments

    var launches: [JobKey: JobLaunch] = [:]
    var schedules: [JobKey: ScheduleTicks] = [:]
    var runDrivers: [Int64: RunDriver] = [:]
    var activeRuns: [JobKey: Set<Int64>] = [:]
    var replicaDrivers: [JobKey: [ContinuousReplicaDriver]] = [:]
    /// The stable addresses of continuous jobs' ports.
    var relays: [JobKey: PortRelay] = [:]
    /// The scheduler's sleep; cancelled to make it look again (a schedule was added or changed).
    var schedulerSleep: Task<Void, Never>?
    /// Calls that change jobs wait until what was declared before has been taken up, so that a
    /// job is never started both by the call and by the resumption.
    var resumed = false
    var resumeWaiters: [CheckedContinuation<Void, Never>] = []

    public init(
        store: KilnStore, backend: any JobBackend, clock: any JobClock = SystemJobClock(), mailer: (any JobMailer)? = nil,
        homeOf: @escaping @Sendable (ToolName) -> String, configuration: Configuration = Configuration(),
        metrics: MonitorMetrics = .none, environments: ToolEnvironments = ToolEnvironments(), logger: Logger
    ) {
        self.metrics = metrics
        self.environments = environments
        self.store = store
        self.backend = backend
        self.clock = clock
        self.mailer = mailer
        self.homeOf = homeOf
        self.configuration = configuration
        self.logger = logger
        recorder = RunRecorder(store: store, logger: logger)
    }

    // MARK: Service

    public func run() async throws {
        await resume()
        await cancelWhenGracefulShutdown {
            await self.schedule()
        }
        // Runs go on without the platform and are adopted at its next start; continuous jobs'
        // replicas are stopped, as webservices are, and started again then.
        for driver in runDrivers.values { await driver.detach() }
        for driver in runDrivers.values { await driver.finished() }
        for key in Array(replicaDrivers.keys) { await stopReplicas(of: key) }
    }

    /// Everything declared, at start-up.
    func resume() async {
        defer {
            resumed = true
            for waiter in resumeWaiters { waiter.resume() }
            resumeWaiters.removeAll()
        }
        let records: [JobRecord]
        let unfinished: [JobRun]
        do {
            records = try await store.allJobs()
            unfinished = try await store.unfinishedRuns()
        } catch {
            logger.error("cannot read the declared jobs", metadata: ["error": "\(error)"])
            return
        }
        for record in records {
            guard let launch = await launch(for: record) else { continue }
            launches[launch.key] = launch
            if let schedule = launch.schedule { schedules[launch.key] = record.ticks(of: schedule) }
        }
        var survivors: [JobKey: [Int: JobRun]] = [:]
        for run in unfinished {
            let key = JobKey(tool: run.tool, job: run.job)
            guard launches[key] != nil else {
                await abandon(run, reason: "its job is gone")
                continue
            }
            if run.trigger == .continuous {
                if let handle = run.handle, let replica = run.replica, await backend.isRunning(handle) {
                    survivors[key, default: [:]][replica] = run
                } else {
                    await abandon(run, status: .unknown)
                }
                continue
            }
            startRunDriver(run)
        }
        for (key, launch) in launches where launch.spec.continuous {
            await startReplicas(launch, survivors: survivors[key] ?? [:])
        }
        logger.info("jobs resumed", metadata: ["jobs": "\(launches.count)", "carried on": "\(unfinished.count)"])
    }

    /// Returns once `resume` has run.
    func ready() async {
        guard !resumed else { return }
        await withCheckedContinuation { resumeWaiters.append($0) }
    }

    /// A run that cannot be carried on is recorded as ended.
    func abandon(_ run: JobRun, reason: String? = nil, status: ExitStatus? = nil) async {
        var run = run
        run.phase = .finished
        run.endedAt = clock.now().timeIntervalSince1970
        run.lastStatus = status ?? run.lastStatus
        run.outcome = .init(result: status == nil ? .cancelled : .failed, status: status, attempts: run.attempt)
        try? await store.saveRun(run)
    }

    /// The launch of a declared job; nil (logged) when its tool or image is gone.
    func launch(for record: JobRecord) async -> JobLaunch? {
        do {
            guard let tool = try await store.tool(named: record.tool) else {
                logger.error("a declared job belongs to no tool", metadata: ["tool": "\(record.tool)", "job": "\(record.name)"])
                return nil
            }
            return try JobLaunch(
                tool: tool, home: homeOf(record.tool), record: record, image: configuration.catalogue.resolve(record.spec.image),
                schedule: record.cronSchedule(), environments: environments, images: configuration.images)
        } catch {
            logger.error("a declared job cannot run", metadata: ["tool": "\(record.tool)", "job": "\(record.name)", "error": "\(error)"])
            return nil
        }
    }

    // MARK: Runs

    func startRunDriver(_ run: JobRun) {
        let key = JobKey(tool: run.tool, job: run.job)
        guard let launch = launches[key] else { return }
        let driver = RunDriver(
            run: run, spec: launch.spec, backend: backend, recorder: recorder, clock: clock, logger: logger,
            submission: { run, attempt throws(KilnError) in try launch.submission(run: run, attempt: attempt) },
            onStart: { [weak self] run in await self?.runStarted(run) },
            onFinish: { [weak self] run in await self?.runFinished(run) })
        runDrivers[run.id] = driver
        activeRuns[key, default: []].insert(run.id)
        Task { await driver.begin() }
    }

    /// A run (or a continuous job's life) started: mailed when the job's `emails` is `all` (in
    /// the background: a slow relay holds up nothing).
    func runStarted(_ run: JobRun) {
        Task { await self.notify(run, event: .started) }
    }

    /// The run ended: the job no longer counts as running, and its mail goes out (in the
    /// background: a slow relay holds up nothing).
    func runFinished(_ run: JobRun) {
        let key = JobKey(tool: run.tool, job: run.job)
        metrics.runFinished(run.outcome?.result ?? .cancelled)
        runDrivers[run.id] = nil
        activeRuns[key]?.remove(run.id)
        if activeRuns[key]?.isEmpty == true { activeRuns[key] = nil }
        Task { await self.notify(run) }
    }

    /// Mails the run's start or end to the tool's maintainers when the job's `emails` asks for it.
    func notify(_ run: JobRun, event: JobNotice.Event = .ended) async {
        let key = JobKey(tool: run.tool, job: run.job)
        guard let launch = launches[key], launch.spec.emails != .none else { return }
        let logs = try? JobLogPaths(spec: launch.spec, tool: launch.tool.name, home: launch.home)
        let files = ConfinedDirectory(path: launch.home, owner: FileOwner(launch.tool.unixUser))
        // A log the tool made unusable (a link, a FIFO) is left out of the mail, not followed.
        func tail(_ path: HomePath?) -> [String] {
            path.flatMap { try? LogFile(in: files, at: $0).lastLines(configuration.mailLines) } ?? []
        }
        // A start has no output yet worth a mail.
        let tails: (output: [String], error: [String]) =
            switch event {
            case .started: ([], [])
            case .ended: (tail(logs?.output), tail(logs?.error))
            }
        let notice = JobNotice(
            tool: run.tool, maintainers: launch.tool.maintainers, job: run.job, run: run, outputTail: tails.output,
            errorTail: tails.error, event: event)
        guard launch.spec.emails.wants(notice) else { return }
        guard let mailer else {
            logger.notice("a job asks for mail but the server has no --smtp", metadata: ["tool": "\(run.tool)", "job": "\(run.job)"])
            return
        }
        do {
            try await mailer.send(notice)
        } catch {
            logger.error("cannot send a job's mail", metadata: ["tool": "\(run.tool)", "job": "\(run.job)", "error": "\(error)"])
        }
    }

    /// Cancels every run of the job and waits until they are down.
    func cancelRuns(of key: JobKey) async {
        let drivers = (activeRuns[key] ?? []).compactMap { runDrivers[$0] }
        await withTaskGroup(of: Void.self) { group in
            for driver in drivers { group.addTask { await driver.cancel() } }
        }
    }

    // MARK: Continuous jobs

    func startReplicas(_ launch: JobLaunch, survivors: [Int: JobRun] = [:]) async {
        let key = launch.key
        let stored = (try? await store.jobReplicas(of: key.job, tool: key.tool)) ?? []
        var drivers: [ContinuousReplicaDriver] = []
        for index in 0..<(launch.spec.replicas ?? 1) {
            var record = stored.first { $0.index == index } ?? ReplicaRecord(tool: key.tool, index: index, port: 0)
            if launch.spec.port != nil, record.port == 0 || survivors[index] == nil {
                record.port = (try? PortAllocator.freeLoopbackPort()) ?? 0
            }
            if record.phase == .failed, survivors[index] == nil {
                drivers.append(replicaDriver(record, launch: launch))
                continue
            }
            let driver = replicaDriver(record, launch: launch)
            await driver.begin(adopting: survivors[index])
            drivers.append(driver)
        }
        replicaDrivers[key] = drivers
        if let port = launch.spec.port {
            let ports = await withTaskGroup(of: Int.self) { group in
                for driver in drivers { group.addTask { await driver.current.port } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let address = HostPort(host: JobAddress.host(tool: key.tool, job: key.job), port: port)
            do {
                relays[key] = try await PortRelay(address: address, ports: ports.filter { $0 > 0 }, owner: launch.backendOwner)
                // A replica that moved off a taken port while the relay was being made.
                await relayFollowsReplicas(of: key)
            } catch {
                logger.error("a continuous job's port cannot be reached at its address", metadata: ["job": "\(key)", "error": "\(error)"])
            }
        }
    }

    func replicaDriver(_ record: ReplicaRecord, launch: JobLaunch) -> ContinuousReplicaDriver {
        let key = launch.key
        return ContinuousReplicaDriver(
            record: record, job: launch.spec.name, spec: launch.spec, policy: configuration.policy, backend: backend,
            store: store, clock: clock, startTimeout: configuration.startTimeout, probes: configuration.probes, logger: logger,
            portOwner: launch.backendOwner,
            submission: { run, attempt, port throws(KilnError) in try launch.submission(run: run, attempt: attempt, port: port) },
            onLifeStarted: { [weak self] run in await self?.runStarted(run) },
            onLifeEnded: { [weak self] run in await self?.notify(run) },
            onPortMoved: { [weak self] in await self?.relayFollowsReplicas(of: key) })
    }

    /// A replica of the job moved to another port: its relay takes the replicas' ports anew.
    func relayFollowsReplicas(of key: JobKey) async {
        guard let relay = relays[key], let drivers = replicaDrivers[key] else { return }
        var ports: [Int] = []
        for driver in drivers { ports.append(await driver.current.port) }
        relay.update(ports: ports.filter { $0 > 0 })
    }

    func stopReplicas(of key: JobKey) async {
        await relays.removeValue(forKey: key)?.close()
        guard let drivers = replicaDrivers.removeValue(forKey: key) else { return }
        await withTaskGroup(of: Void.self) { group in
            for driver in drivers { group.addTask { await driver.stop() } }
        }
    }

    /// Where the job's port is reached, when it has one.
    nonisolated func address(of spec: JobSpec, tool: ToolName) -> String? {
        spec.port.map { "\(JobAddress.host(tool: tool, job: spec.name)):\($0)" }
    }
}
