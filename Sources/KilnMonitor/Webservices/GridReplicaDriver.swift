import CoreMetrics
import Crypto
import Foundation
import KilnCore
import KilnRunner
import KilnStore
import Logging
import Synchronization

/// Keeps one replica of a webservice running as a grid job, as `ReplicaDriver` does on this
/// host: submits `kiln run-webservice` as the tool, routes the replica once its runner registers
/// a backend the control plane checked and reached, and when the grid job ends takes the route
/// away and submits again after the backoff its `ReplicaLifecycle` says (on whichever host the
/// grid picks: an execution host that died costs one life, as a crash does).
///
/// Each life's runner gets a credential of its own, which can register that life's backend and
/// nothing else: only its digest is kept (in the store, so a restarted platform still knows it).
actor GridReplicaDriver: WebserviceReplicaDriver, ReplicaLifeDriving {
    nonisolated let tool: ToolName
    nonisolated let index: Int
    /// Where the replica is routed now; nil while it is not.
    private nonisolated let routed: Mutex<HostPort?>
    let launch: WebserviceLaunch
    let grid: GridWebservices
    let store: KilnStore
    let registrar: any BackendRegistrar
    let startTimeout: Duration
    let restarts: CoreMetrics.Counter
    let logger: Logger
    let onChange: @Sendable (ReplicaRecord) async -> Void
    private var lifecycle: ReplicaLifecycle
    private var record: ReplicaRecord
    private var task: Task<Void, Never>?
    /// The grid job stopped because it never registered a backend in time.
    private var unhealthyJob: String?
    /// Stopped for good: a `begin` that comes after the stop (a rolling restart interrupted
    /// while it started its replicas) submits nothing.
    private var stopped = false

    nonisolated var liveRoute: Route? {
        routed.withLock { $0 }.map { Route(tool: tool.rawValue, pattern: Route.matchAll, backend: $0) }
    }

    init(
        record: ReplicaRecord, launch: WebserviceLaunch, grid: GridWebservices, policy: RestartPolicy, store: KilnStore,
        registrar: any BackendRegistrar, startTimeout: Duration, restarts: CoreMetrics.Counter, logger: Logger,
        onChange: @escaping @Sendable (ReplicaRecord) async -> Void
    ) {
        tool = record.tool
        index = record.index
        routed = Mutex(nil)
        self.record = record
        self.launch = launch
        self.grid = grid
        self.store = store
        self.registrar = registrar
        self.startTimeout = startTimeout
        self.restarts = restarts
        self.onChange = onChange
        var logger = logger
        logger[metadataKey: "tool"] = "\(record.tool)"
        logger[metadataKey: "replica"] = "\(record.index)"
        self.logger = logger
        lifecycle = record.lifecycle(policy: policy)
    }

    var current: ReplicaRecord { record }

    /// Starts driving; with `adopting`, a life from before a restart of the platform whose grid
    /// job still runs and had registered its backend is taken over rather than doubled.
    func begin(adopting: Bool) async {
        guard task == nil, !stopped else { return }
        if let pid = record.pid, let start = record.processStart {
            // A server this replica ran on this host before the platform moved to a grid: it goes,
            // so that the replica is not served twice.
            await ProcessInspector.stopGroup(pid, start: start, grace: Self.stopGrace)
            record.pid = nil
            record.processStart = nil
        }
        var survivor: JobHandle?
        if let handle = record.gridJob {
            if adopting, record.backend != nil, record.credentialDigest != nil, await grid.backend.isRunning(handle) {
                survivor = handle
            } else {
                // A life that had not registered, or one not wanted any more: it goes, so that
                // no second runner of this replica serves beside the next.
                await grid.backend.cancel(handle, grace: Self.stopGrace)
            }
        }
        if survivor != nil {
            // Its route (kept in the registry) is live from now: the monitor's reconciling, which
            // takes away routes no replica backs, must not take it before the driving re-registers it.
            routed.withLock { $0 = record.backend }
        } else {
            record.gridJob = nil
            record.backend = nil
            record.credentialDigest = nil
            record.phase = .starting
            try? await store.saveReplica(record)
        }
        task = Task { await self.drive(adopting: survivor) }
    }

    func beginNew() async { await begin(adopting: false) }

    /// Takes the route away, then (after `drain`) cancels the grid job: its runner stops the
    /// server gracefully, as on this host.
    func stop(draining drain: Duration) async {
        stopped = true
        if liveRoute != nil, drain > .zero {
            await deregister()
            try? await Task.sleep(for: drain)
        }
        await stop()
    }

    /// Takes the route away, cancels the grid job, and returns once the driving ended.
    func stop() async {
        stopped = true
        let action = lifecycle.stop()
        await deregister()
        switch action {
        case .terminate, .deregisterAndTerminate:
            // The job's end is awaited (its runner stops its server, the grid's files go), as
            // long as the grid's grace allows; then the driving is let go of.
            if let handle = record.gridJob { await grid.backend.cancel(handle, grace: Self.stopGrace) }
            let driving = task
            let bound = Task {
                try? await Task.sleep(for: Self.stopGrace + .seconds(10))
                driving?.cancel()
            }
            await driving?.value
            bound.cancel()
        case .none, .spawn, .probe, .register, .startAgain, .giveUp:
            if let handle = record.gridJob { await grid.backend.cancel(handle, grace: Self.stopGrace) }
            task?.cancel()
            await task?.value
        }
        task = nil
        record.phase = .stopped
        record.gridJob = nil
        record.backend = nil
        record.credentialDigest = nil
    }

    // MARK: Driving

    private func drive(adopting survivor: JobHandle?) async {
        var action: ReplicaLifecycle.Action
        if let survivor, let backend = record.backend {
            _ = lifecycle.adopted(pid: Self.number(survivor), since: Date(timeIntervalSince1970: record.startedAt ?? Self.now()))
            await register(backend)
            await save()
            logger.notice("adopted a grid webservice replica that outlived the platform", metadata: ["grid_job": "\(survivor.id)"])
            action = await awaitEnd(survivor)
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
        logger.error("grid webservice replica failed; it stays down until started again", metadata: ["reason": "\(reason)"])
        await save()
    }

    func rest() async { await save() }

    /// One life: submit the runner, wait (a bounded time) for it to register, wait for its end.
    func live() async -> ReplicaLifecycle.Action {
        let credential = Self.newCredential()
        let submission: JobSubmission
        do {
            submission = try makeSubmission(credential: credential)
        } catch {
            return await ended(.couldNotStart(reason: error.message), job: nil)
        }
        // Known before the job can run: a quick runner may register before `submit` returns.
        record.credentialDigest = Self.digest(credential)
        var handle: JobHandle?
        var waits = 0
        while handle == nil {
            do {
                handle = try await grid.backend.submit(submission)
            } catch where error.isBackendUnreachable {
                // An unreachable grid is no death of the replica: it waits to be submitted.
                waits += 1
                logger.warning("a grid webservice replica waits for its grid", metadata: ["error": "\(error.message)"])
                do {
                    try await Task.sleep(for: JobRunLifecycle.backendWaitDelay(after: waits))
                } catch {
                    return .none
                }
            } catch {
                return await ended(.couldNotStart(reason: error.message), job: nil)
            }
        }
        guard let handle else { return .none }
        record.gridJob = handle
        record.backend = nil
        record.startedAt = Self.now()
        guard case .probe = lifecycle.spawned(pid: Self.number(handle), at: Date()) else {
            await grid.backend.cancel(handle, grace: Self.stopGrace)
            return await awaitEnd(handle)
        }
        await save()
        logger.info("submitted a grid webservice replica", metadata: ["grid_job": "\(handle.id)"])
        let deadline = Task { [startTimeout, queueAllowance = grid.queueAllowance] in
            try? await Task.sleep(for: startTimeout + queueAllowance)
            if !Task.isCancelled { await self.startTimedOut(handle) }
        }
        defer { deadline.cancel() }
        return await awaitEnd(handle)
    }

    /// The life never registered a backend in time: its job goes, and its end counts as unhealthy.
    private func startTimedOut(_ handle: JobHandle) async {
        guard record.gridJob?.id == handle.id, case .terminate = lifecycle.unhealthy() else { return }
        logger.warning("grid webservice replica did not register in time; cancelling its job", metadata: ["grid_job": "\(handle.id)"])
        unhealthyJob = handle.id
        await grid.backend.cancel(handle, grace: Self.stopGrace)
    }

    private func awaitEnd(_ handle: JobHandle) async -> ReplicaLifecycle.Action {
        let status: ExitStatus
        do {
            status = try await grid.backend.waitForEnd(handle)
        } catch {
            // Stopped (`stop` cancels the job itself), or the platform shuts down.
            return .none
        }
        return await ended(status, job: handle.id)
    }

    private func ended(_ status: ExitStatus, job: String?) async -> ReplicaLifecycle.Action {
        var status = status
        if let job, unhealthyJob == job {
            status = .unhealthy(reason: "its runner registered no backend within \((startTimeout + grid.queueAllowance).spoken) of its submission")
        }
        unhealthyJob = nil
        // The proxy stops sending to a dead life first, whatever comes next.
        await deregister()
        let now = Self.now()
        let wasStopping: Bool = if case .stopping = lifecycle.state { true } else { false }
        let action = lifecycle.exited(status, at: Date(timeIntervalSince1970: now))
        if !wasStopping {
            logger.warning("grid webservice replica ended", metadata: ["status": "\(status)", "grid_job": "\(job ?? "-")"])
            record.lastExit = status
            record.lastExitAt = now
        }
        record.gridJob = nil
        record.backend = nil
        record.credentialDigest = nil
        return action
    }

    // MARK: The runner's word

    /// A runner's registration (or deregistration) of this replica's backend. Refused unless it
    /// brings the current life's credential, comes from the host the grid runs that life on, and
    /// names a port there that answers the health check from here.
    func report(_ registration: ReplicaRegistration) async throws(KilnError) {
        let context = ["tool": tool.rawValue, "replica": String(index)]
        let presented = Self.digest(registration.credential)
        // A runner quicker than `submit`'s answer waits (a few seconds at most) for its job's id.
        for _ in 0..<50 where record.gridJob == nil && record.credentialDigest.map({ SecretComparison.equals(presented, $0) }) == true {
            try? await Task.sleep(for: .milliseconds(100))
        }
        guard let expected = record.credentialDigest, SecretComparison.equals(presented, expected), let handle = record.gridJob
        else {
            throw KilnError(.forbidden, "this credential is not that of replica \(index)'s current runner", context: context)
        }
        guard let backend = registration.backend else {
            if routed.withLock({ $0 }) != nil {
                logger.info("the runner deregistered its backend", metadata: ["grid_job": "\(handle.id)"])
                await deregister()
            }
            return
        }
        // The runner's heartbeat: this life is still the replica's, and nothing else changes. Its
        // address was checked when it registered; the grid is not asked again (its controller
        // may be down a while, which must not stop a server that serves).
        if case .serving = lifecycle.state, routed.withLock({ $0 }) == backend { return }
        try await check(backend, from: registration.peer, job: handle)
        switch lifecycle.state {
        case .probing:
            guard case .register = lifecycle.healthy() else { return }
        case .serving:
            // Another address for the same life (the grid ran its job again elsewhere).
            await deregister()
        case .idle, .spawning, .backingOff, .failed, .stopping:
            throw KilnError(.conflict, "replica \(index) of '\(tool)' is not starting or serving now", context: context)
        }
        await register(backend)
        record.backend = backend
        await save()
        logger.info("grid webservice replica serving", metadata: ["backend": "\(backend)", "grid_job": "\(handle.id)"])
    }

    /// Where a runner may route this replica: a port of an unprivileged server at the address of
    /// the execution host the grid says runs its job, registered from that address, answering.
    private func check(_ backend: HostPort, from peer: String?, job handle: JobHandle) async throws(KilnError) {
        var context = ["tool": tool.rawValue, "replica": String(index), "backend": backend.description]
        guard (1024...65535).contains(backend.port) else {
            throw KilnError(.forbidden, "a replica's server listens on a port from 1024 to 65535, not \(backend.port)", context: context)
        }
        // The proxy reaches a grid replica over the network: never at a loopback address (on the
        // platform's own host that would be anything listening there), nor at the platform's own ports.
        guard !backend.host.hasPrefix("127."), backend.host != "::1", backend.host != "0.0.0.0" else {
            throw KilnError(.forbidden, "a grid replica's server listens on its host's network address, not \(backend.host)", context: context)
        }
        if grid.platformPorts.contains(backend.port), SourceAddress.localAddresses().contains(backend.host) {
            throw KilnError(.forbidden, "\(backend) is a listener of the platform itself, not of tool '\(tool)'", context: context)
        }
        guard let peer, peer == backend.host else {
            throw KilnError(
                .forbidden, "a runner registers only its own host's address: the request came from \(peer ?? "an unknown address"), not \(backend.host)",
                context: context)
        }
        // The runner registers once its server answers, so the job runs; the grid's listing
        // (shared, polled) may not say so yet: asked again for a few seconds.
        var host = await grid.backend.placement(of: handle)?.host
        for _ in 0..<20 where host == nil {
            try? await Task.sleep(for: .milliseconds(250))
            host = await grid.backend.placement(of: handle)?.host
        }
        guard let host else {
            throw KilnError(.conflict, "the grid does not say yet where job \(handle.id) runs", context: context)
        }
        context["grid_host"] = host
        guard SourceAddress.belongs(backend.host, to: host) else {
            throw KilnError(
                .forbidden, "the grid runs this replica's job \(handle.id) on \(host) (\(SourceAddress.addresses(of: host).sorted().joined(separator: ", "))), not at \(backend.host)",
                context: context)
        }
        guard await HealthProbe.isHealthy(
            backend, path: launch.spec.healthCheckPath, host: "\(tool.rawValue).localhost", owner: .anyone, timeout: .seconds(2))
        else {
            throw KilnError(.unavailable, "\(backend) does not answer \(launch.spec.healthCheckPath) from the control plane", context: context)
        }
    }

    // MARK: Effects

    private func makeSubmission(credential: String) throws(KilnError) -> JobSubmission {
        let spec: String
        do {
            spec = String(decoding: try JSONEncoder().encode(launch.spec), as: UTF8.self)
        } catch {
            throw KilnError(.internalError, "cannot encode the webservice's declaration: \(error)")
        }
        let toolEnvironment = launch.environments?.of(tool) ?? [:]
        var runnerEnvironment = [
            WebserviceRunner.credentialVariable: credential, WebserviceRunner.specVariable: spec,
            WebserviceRunner.toolVariablesVariable: toolEnvironment.keys.sorted().joined(separator: ","),
        ]
        if let builtImage = launch.builtImage {
            // The image found at this start: the runner on its host runs this one.
            let image = try builtImage.get()
            do {
                runnerEnvironment[WebserviceRunner.imageVariable] = String(decoding: try JSONEncoder().encode(image), as: UTF8.self)
            } catch {
                throw KilnError(.internalError, "cannot encode the webservice's image: \(error)")
            }
        }
        // `exec`: the runner is the wrapper's own child, which the wrapper passes a cancel's TERM
        // to and waits for, so it has the grace to stop its server and deregister.
        let command = "exec " + [
            launch.kilnExecutable, "run-webservice", "--tool", tool.rawValue, "--replica", String(index),
            "--control-plane", grid.controlPlane.description, "--start-timeout", String(startTimeout.components.seconds),
        ].map(Self.quoted).joined(separator: " ")
        // A life is named by when it began (milliseconds): its grid files and name are its own,
        // apart from every job run's (those count from 1).
        let life = Int64(Self.now() * 1000)
        return JobSubmission(
            tool: tool, job: "webservice", runID: life, attempt: index, command: command,
            image: try JobImageCatalogue.standard.resolve("bookworm"), user: launch.user, home: launch.home,
            workingDirectory: launch.home, output: LogStream.out.webserviceLog, error: LogStream.err.webserviceLog,
            memory: launch.spec.memory, cpu: launch.spec.cpu, timeout: nil,
            environment: runnerEnvironment, toolEnvironment: toolEnvironment)
    }

    private func register(_ backend: HostPort) async {
        let route = Route(tool: tool.rawValue, pattern: Route.matchAll, backend: backend)
        do {
            try await registrar.register(route)
            try await store.recordWebserviceRoute(route)
            routed.withLock { $0 = backend }
        } catch {
            logger.error("cannot register the replica with the proxy", metadata: ["error": "\(error)"])
        }
    }

    private func deregister() async {
        guard let route = liveRoute else { return }
        routed.withLock { $0 = nil }
        do {
            try await registrar.deregister(route)
            try await store.forgetWebserviceRoute(route)
        } catch {
            logger.error("cannot deregister the replica", metadata: ["error": "\(error)"])
        }
    }

    private func save() async {
        record.take(lifecycle)
        do {
            try await store.saveReplica(record)
        } catch {
            logger.error("cannot record the replica's state", metadata: ["error": "\(error)"])
        }
        await onChange(record)
    }

    // MARK: Helpers

    /// How long a stopped replica's runner has between TERM and KILL.
    static let stopGrace: Duration = .seconds(5)

    /// What the lifecycle keeps as the life's process: the grid's job number.
    static func number(_ handle: JobHandle) -> Int32 { Int32(handle.id) ?? 0 }

    /// 256 random bits, as the platform's other tokens.
    static func newCredential() -> String {
        var generator = SystemRandomNumberGenerator()
        return "kiln_replica_" + (0..<4).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    static func digest(_ credential: String) -> String {
        SHA256.hash(data: Data(credential.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func quoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static func now() -> Double { Date().timeIntervalSince1970 }
}
