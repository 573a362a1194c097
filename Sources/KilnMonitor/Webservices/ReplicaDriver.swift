import CoreMetrics
import Foundation
import KilnCore
import KilnRunner
import KilnStore
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Keeps one replica of a webservice running: spawns its server, probes it, registers it with
/// the proxy once it answers, and on its death deregisters it and starts it again after the
/// backoff its `ReplicaLifecycle` says. Every transition is written to the store, so a restart
/// of the platform keeps the replica's restart history (and can adopt its process).
actor ReplicaDriver: WebserviceReplicaDriver, ReplicaLifeDriving {
    nonisolated let tool: ToolName
    nonisolated let index: Int
    /// Where the replica's server answers: 127.0.0.1 and its port, which moves only while its
    /// server is down, when another listener took it; or its own network's address.
    private nonisolated let currentBackend: Mutex<HostPort>
    let launch: WebserviceLaunch
    /// Where the replica's network comes from, when it has one of its own.
    let networks: ReplicaNetworks?
    /// The replica's own network, from its first start (or its adoption) until it is stopped:
    /// its restarts keep it, and with it its address and route.
    private var network: ReplicaNetwork?
    let store: KilnStore
    let registrar: any BackendRegistrar
    /// Counts the times a replica is started again after dying.
    let restarts: CoreMetrics.Counter
    let startTimeout: Duration
    let logger: Logger
    let onChange: @Sendable (ReplicaRecord) async -> Void
    private var lifecycle: ReplicaLifecycle
    private var record: ReplicaRecord
    private var task: Task<Void, Never>?
    /// Stopped for good: a `begin` that comes after the stop (a rolling restart interrupted
    /// while it started its replicas) starts nothing.
    private var stopped = false

    nonisolated var backend: HostPort { currentBackend.withLock { $0 } }
    nonisolated var route: Route { Route(tool: tool.rawValue, pattern: Route.matchAll, backend: backend) }
    nonisolated var liveRoute: Route? { route }

    init(
        record: ReplicaRecord, launch: WebserviceLaunch, networks: ReplicaNetworks?, policy: RestartPolicy, store: KilnStore,
        registrar: any BackendRegistrar, startTimeout: Duration, restarts: CoreMetrics.Counter, logger: Logger,
        onChange: @escaping @Sendable (ReplicaRecord) async -> Void
    ) {
        self.networks = networks
        self.restarts = restarts
        tool = record.tool
        index = record.index
        currentBackend = Mutex(Self.backend(of: record, ownNetwork: networks != nil))
        self.record = record
        self.launch = launch
        self.store = store
        self.registrar = registrar
        self.startTimeout = startTimeout
        self.onChange = onChange
        var logger = logger
        logger[metadataKey: "tool"] = "\(record.tool)"
        logger[metadataKey: "replica"] = "\(record.index)"
        self.logger = logger
        lifecycle = record.lifecycle(policy: policy)
    }

    var current: ReplicaRecord { record }

    /// Where `record`'s server answers: at its own network's address when it has one (kept in
    /// the record's `backend`), else at 127.0.0.1 and its port.
    static func backend(of record: ReplicaRecord, ownNetwork: Bool) -> HostPort {
        if ownNetwork, let backend = record.backend { return backend }
        return HostPort(host: "127.0.0.1", port: record.port)
    }

    /// The replica's network, while it has one.
    var ownNetwork: ReplicaNetwork? { network }

    /// Starts driving: spawns the server, or adopts `survivor` (a process from before a restart
    /// of the platform that still answers).
    func begin(adopting survivor: (pid: Int32, start: UInt64)? = nil) async {
        guard task == nil, !stopped else { return }
        var survivor = survivor
        if let networks, network == nil {
            // The network from before a restart of the platform, still there: kept, with its
            // address. A survivor is reachable only in it: without it, it cannot be routed, and goes.
            network = record.backend.flatMap { networks.adoptIfOwn($0, tool: tool, replica: index) }
            if network == nil, let adopted = survivor {
                logger.warning("a replica from before the restart has lost its network; replacing it", metadata: ["pid": "\(adopted.pid)"])
                await ProcessInspector.stopGroup(adopted.pid, start: adopted.start, grace: .seconds(3))
                survivor = nil
            }
        }
        if survivor == nil, record.pid != nil || record.phase == .serving {
            // What the store says of a process from before (serving, its pid) is no longer true.
            record.pid = nil
            record.processStart = nil
            record.phase = .starting
            try? await store.saveReplica(record)
        }
        task = Task { await self.drive(adopting: survivor) }
    }

    func beginNew() async { await begin(adopting: nil) }

    /// Deregisters the replica, then stops its process group, and returns once it is down.
    func stop() async { await stop(draining: .zero) }

    /// Deregisters the replica, waits `drain` (for proxies that hear of it a moment later, and
    /// the requests they sent meanwhile), then stops its process group gracefully (TERM, then
    /// KILL after the grace period: a server finishes what it was answering), and returns once
    /// it is down. Only its own control group and route go: a rolling restart's other generation
    /// has indices, groups and routes of its own.
    func stop(draining drain: Duration) async {
        stopped = true
        let action = lifecycle.stop()
        if case .deregisterAndTerminate = action {
            await deregister()
            if drain > .zero { try? await Task.sleep(for: drain) }
        }
        task?.cancel()
        await task?.value
        task = nil
        // Awaited here (not left to the exit's own clean-up task), so a shutdown leaves no group.
        await launch.limits(replica: index).removeGroups()
        if let networks, let network {
            // Only once nothing of the replica runs in it.
            await networks.release(network)
            self.network = nil
        }
        record.phase = .stopped
        record.pid = nil
        record.processStart = nil
    }

    // MARK: Driving

    private func drive(adopting survivor: (pid: Int32, start: UInt64)?) async {
        var action: ReplicaLifecycle.Action
        if let survivor {
            action = lifecycle.adopted(pid: survivor.pid, since: Date(timeIntervalSince1970: record.startedAt ?? Self.now()))
            if case .register = action {
                await register()
                await save()
                logger.notice("adopted a webservice replica that outlived the platform", metadata: ["pid": "\(survivor.pid)"])
            }
            action = await watchAdopted(pid: survivor.pid, start: survivor.start)
        } else {
            action = lifecycle.start()
        }
        await carryOut(action)
    }

    func backOff(_ delay: Duration) async -> ReplicaLifecycle.Action? {
        restarts.increment()
        await save()
        do {
            try await Task.sleep(for: delay)
        } catch {
            return nil
        }
        return lifecycle.backoffElapsed()
    }

    func gaveUp(_ reason: String) async {
        logger.error("webservice replica failed; it stays down until started again", metadata: ["reason": "\(reason)"])
        await save()
    }

    func rest() async {}

    /// One run of the server: spawn, probe, register, wait for its end; returns what comes next.
    func live() async -> ReplicaLifecycle.Action {
        var launch = self.launch
        let spec: ProcessSpec
        do {
            if let networks {
                launch.network = try await ownNetwork(from: networks)
            } else {
                await moveIfPortTaken()
            }
            spec = try launch.processSpec(replica: index, port: backend.port)
        } catch {
            return await ended(.couldNotStart(reason: error.message))
        }
        let status = await ProcessRunner.run(spec) { pid in
            await self.running(pid: pid)
        }
        return await ended(status)
    }

    /// Nothing of this replica runs now, so a listener at its port is someone else's (a port
    /// squatted while the server restarted): the replica gets another port rather than fail to
    /// bind, or worse be probed and routed to the squatter.
    private func moveIfPortTaken() async {
        let port = backend.port
        guard PortAllocator.isListenedOn(port), let fresh = try? PortAllocator.freeLoopbackPort() else { return }
        logger.warning("the replica's port is taken by another listener; it moves", metadata: ["port": "\(port)", "new_port": "\(fresh)"])
        currentBackend.withLock { $0 = HostPort(host: "127.0.0.1", port: fresh) }
        record.port = fresh
        await save()
    }

    /// The replica's network, made at its first start; its address is its backend from then on.
    private func ownNetwork(from networks: ReplicaNetworks) async throws(KilnError) -> ReplicaNetwork {
        if let network { return network }
        let made = try await networks.claim(for: tool, replica: index)
        network = made
        currentBackend.withLock { $0 = made.backend }
        record.backend = made.backend
        record.port = made.backend.port
        await save()
        logger.info("webservice replica has a network of its own", metadata: ["network": "\(made.name)", "backend": "\(made.backend)"])
        return made
    }

    /// The server runs: probe it until it answers (or dies, or the start timeout passes).
    private func running(pid: Int32) async {
        guard case .probe = lifecycle.spawned(pid: pid, at: Date()) else {
            ProcessInspector.signalGroup(pid, SIGTERM)
            return
        }
        record.pid = pid
        record.processStart = ProcessInspector.startTime(of: pid)
        record.startedAt = Self.now()
        await save()
        let start = record.processStart ?? 0
        let deadline = ContinuousClock.now + startTimeout
        let host = "\(tool.rawValue).localhost"
        while !Task.isCancelled, ContinuousClock.now < deadline, ProcessInspector.isAlive(pid: pid, start: start) {
            if await HealthProbe.isHealthy(
                backend, path: launch.spec.healthCheckPath, host: host, owner: launch.backendOwner, timeout: .seconds(1)) {
                if case .register = lifecycle.healthy() {
                    await register()
                    await save()
                    logger.info("webservice replica serving", metadata: ["backend": "\(backend)", "pid": "\(pid)"])
                }
                return
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        guard !Task.isCancelled, ProcessInspector.isAlive(pid: pid, start: start) else { return }
        logger.warning("webservice replica did not answer in time; stopping it", metadata: ["timeout": "\(startTimeout)"])
        unhealthyPID = pid
        if case .terminate(let pid) = lifecycle.unhealthy() {
            await ProcessInspector.stopGroup(pid, start: start, grace: .seconds(3))
        }
    }

    private var unhealthyPID: Int32?

    /// An adopted process is not this platform's child: watch its pid until it is gone.
    private func watchAdopted(pid: Int32, start: UInt64) async -> ReplicaLifecycle.Action {
        do {
            try await ProcessInspector.waitForExit(pid: pid, start: start)
        } catch {
            // Stopped (or the platform shuts down): the group goes, as a spawned one would.
            await ProcessInspector.stopGroup(pid, start: start, grace: .seconds(5))
            return await ended(.signaled(signal: SIGTERM))
        }
        return await ended(.unknown)
    }

    private func ended(_ status: ExitStatus) async -> ReplicaLifecycle.Action {
        var status = status
        if let pid = unhealthyPID, pid == record.pid {
            status = .unhealthy(reason: "it did not answer \(launch.spec.healthCheckPath) within \(startTimeout)")
        }
        unhealthyPID = nil
        // A dead server is taken out of the proxy first, whatever comes next; then what is left
        // of its process group goes (a killed gunicorn master leaves its workers holding the port).
        await deregister()
        if let leader = record.pid { ProcessInspector.signalGroup(leader, SIGKILL) }
        let limits = launch.limits(replica: index)
        Task { await limits.removeGroups() }
        let now = Self.now()
        let action = lifecycle.exited(status, at: Date(timeIntervalSince1970: now))
        if case .stopping = lifecycle.state {} else if case .idle = lifecycle.state {} else {
            logger.warning("webservice replica ended", metadata: ["status": "\(status)"])
            record.lastExit = status
            record.lastExitAt = now
        }
        record.pid = nil
        record.processStart = nil
        return action
    }

    // MARK: Effects

    private func register() async {
        do {
            try await registrar.register(route)
            try await store.recordWebserviceRoute(route)
        } catch {
            logger.error("cannot register the replica with the proxy", metadata: ["error": "\(error)"])
        }
    }

    private func deregister() async {
        do {
            try await registrar.deregister(route)
            try await store.forgetWebserviceRoute(route)
        } catch {
            logger.error("cannot deregister the replica", metadata: ["error": "\(error)"])
        }
    }

    /// Writes the replica's state as the lifecycle has it now.
    private func save() async {
        record.take(lifecycle)
        do {
            try await store.saveReplica(record)
        } catch {
            logger.error("cannot record the replica's state", metadata: ["error": "\(error)"])
        }
        await onChange(record)
    }

    static func now() -> Double { Date().timeIntervalSince1970 }
}
