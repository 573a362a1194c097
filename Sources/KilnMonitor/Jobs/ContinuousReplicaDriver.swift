import Foundation
import KilnCore
import KilnRunner
import KilnStore
import Logging

/// Keeps one replica of a continuous job running, as `ReplicaDriver` does a webservice's: starts
/// it, waits until it is ready (its health check passes: see `+Health`), keeps asking while it
/// lives and stops it when the check fails too often in a row, and when it dies starts it again
/// after the backoff its `ReplicaLifecycle` says, giving up after too many deaths. The replica's
/// state (restart history included) is in the store, and every life of it is a run in the job's
/// history.
actor ContinuousReplicaDriver: ReplicaLifeDriving {
    nonisolated let tool: ToolName
    nonisolated let job: String
    nonisolated let index: Int
    let spec: JobSpec
    let backend: any JobBackend
    let store: KilnStore
    let clock: any JobClock
    let startTimeout: Duration
    /// How its health check is asked, on `probeClock`.
    let probes: ProbePolicy
    let probeClock: any Clock<Duration>
    let logger: Logger
    /// The submission of an attempt of a run; with its port ($PORT) when the job has one.
    let submission: @Sendable (_ run: JobRun, _ attempt: Int, _ port: Int?) throws(KilnError) -> JobSubmission
    /// Whose listener the replica's port must be for it to count as ready.
    let portOwner: BackendOwner
    let onLifeStarted: @Sendable (JobRun) async -> Void
    let onLifeEnded: @Sendable (JobRun) async -> Void
    /// The replica moved to another port (its old one was taken): the job's relay must follow.
    let onPortMoved: @Sendable () async -> Void
    private(set) var record: ReplicaRecord
    private var lifecycle: ReplicaLifecycle
    private(set) var life: JobRun?
    private var task: Task<Void, Never>?

    init(
        record: ReplicaRecord, job: String, spec: JobSpec, policy: RestartPolicy, backend: any JobBackend, store: KilnStore,
        clock: any JobClock, startTimeout: Duration, probes: ProbePolicy = ProbePolicy(),
        probeClock: any Clock<Duration> = ContinuousClock(), logger: Logger, portOwner: BackendOwner,
        submission: @escaping @Sendable (JobRun, Int, Int?) throws(KilnError) -> JobSubmission,
        onLifeStarted: @escaping @Sendable (JobRun) async -> Void = { _ in },
        onLifeEnded: @escaping @Sendable (JobRun) async -> Void, onPortMoved: @escaping @Sendable () async -> Void
    ) {
        self.probes = probes
        self.probeClock = probeClock
        self.onLifeStarted = onLifeStarted
        self.portOwner = portOwner
        self.onPortMoved = onPortMoved
        tool = record.tool
        self.job = job
        index = record.index
        self.record = record
        self.spec = spec
        self.backend = backend
        self.store = store
        self.clock = clock
        self.startTimeout = startTimeout
        self.submission = submission
        self.onLifeEnded = onLifeEnded
        var logger = logger
        logger[metadataKey: "tool"] = "\(record.tool)"
        logger[metadataKey: "job"] = "\(job)"
        logger[metadataKey: "replica"] = "\(record.index)"
        self.logger = logger
        lifecycle = record.lifecycle(policy: policy)
    }

    var current: ReplicaRecord { record }

    /// Starts driving; `survivor` is this replica's life from before a restart of the platform,
    /// when its process still runs.
    func begin(adopting survivor: JobRun? = nil) {
        guard task == nil else { return }
        task = Task { await self.drive(adopting: survivor) }
    }

    /// Stops the replica's process tree and returns once it is down.
    func stop() async {
        let action = lifecycle.stop()
        switch action {
        case .terminate, .deregisterAndTerminate:
            if let handle = life?.handle { await backend.cancel(handle, grace: RunDriver.stopGrace) }
        case .none, .spawn, .probe, .register, .startAgain, .giveUp:
            task?.cancel()
        }
        await task?.value
        task = nil
        record.phase = .stopped
        record.pid = nil
        record.processStart = nil
    }

    // MARK: Driving

    private func drive(adopting survivor: JobRun?) async {
        var action: ReplicaLifecycle.Action
        if let survivor, let handle = survivor.handle {
            life = survivor
            _ = lifecycle.adopted(pid: Int32(handle.id) ?? 0, since: Date(timeIntervalSince1970: survivor.startedAt ?? now()))
            await save()
            logger.notice("adopted a continuous job replica that outlived the platform", metadata: ["pid": "\(handle.id)"])
            // It was serving: its health is asked a period from now, as a ready replica's.
            action = await live(handle, health: ReplicaHealth(policy: probes, state: .ready))
        } else {
            action = lifecycle.start()
        }
        await carryOut(action)
    }

    func backOff(_ delay: Duration) async -> ReplicaLifecycle.Action? {
        // The lifecycle says how long to wait from now, as for webservices.
        await save()
        do {
            try await clock.sleepUntilReached(clock.now() + delay)
        } catch {
            return nil
        }
        return lifecycle.backoffElapsed()
    }

    func gaveUp(_ reason: String) async {
        logger.error("continuous job replica failed; it stays down until restarted", metadata: ["reason": "\(reason)"])
        await save()
    }

    func rest() async { await save() }

    /// One life: spawn, wait until ready, wait for its end.
    func live() async -> ReplicaLifecycle.Action {
        await moveIfPortTaken()
        let started = now()
        var life: JobRun
        do {
            life = try await store.createRun(
                JobRun(tool: tool, job: job, trigger: .continuous, replica: index, queuedAt: started))
        } catch {
            return lifecycle.exited(.couldNotStart(reason: error.message), at: Date(timeIntervalSince1970: started))
        }
        let handle: JobHandle
        var waits = 0
        while true {
            do {
                handle = try await backend.submit(submission(life, 1, port))
                break
            } catch where error.isBackendUnreachable {
                // An unreachable grid is no death of the replica: its life waits to begin.
                waits += 1
                life.phase = .waiting
                life.waitReason = error.message
                self.life = life
                await save()
                logger.warning("a continuous job replica waits for its backend", metadata: ["error": "\(error.message)"])
                do {
                    try await clock.sleepUntilReached(clock.now() + JobRunLifecycle.backendWaitDelay(after: waits))
                } catch {
                    // Stopped while waiting: this life never began.
                    life.phase = .finished
                    life.endedAt = now()
                    life.outcome = .init(result: .cancelled, status: nil, attempts: 0)
                    self.life = nil
                    try? await store.saveRun(life)
                    return .none
                }
            } catch {
                self.life = life
                return await ended(.couldNotStart(reason: error.message))
            }
        }
        life.waitReason = nil
        life.phase = .running
        life.attempt = 1
        life.startedAt = started
        life.handle = handle
        self.life = life
        let pid = Int32(handle.id) ?? 0
        record.pid = pid
        record.processStart = handle.processStart
        record.startedAt = started
        guard case .probe = lifecycle.spawned(pid: pid, at: Date(timeIntervalSince1970: started)) else {
            await backend.cancel(handle, grace: RunDriver.stopGrace)
            return await awaitEnd(handle)
        }
        await save()
        await onLifeStarted(life)
        if await becameReady(handle) {
            if case .register = lifecycle.healthy() {
                logger.info("continuous job replica running", metadata: ["pid": "\(pid)"])
                await save()
            }
        } else if await !backend.isRunning(handle) {
            // It died before it was ready: that is its end (its exit status), not a timeout.
            return await awaitEnd(handle)
        } else if case .terminate = lifecycle.unhealthy() {
            logger.warning("continuous job replica did not become ready in time; stopping it", metadata: ["timeout": "\(startTimeout)"])
            await backend.cancel(handle, grace: RunDriver.stopGrace)
            _ = try? await backend.waitForEnd(handle)
            return await ended(.unhealthy(reason: "it was not ready within \(startTimeout.spoken)"))
        }
        return await live(handle, health: ReplicaHealth(policy: probes, state: .ready))
    }

    func awaitEnd(_ handle: JobHandle) async -> ReplicaLifecycle.Action {
        do {
            return await ended(try await backend.waitForEnd(handle))
        } catch {
            // Detached (the platform shuts down and stops its replicas through `stop`).
            return .none
        }
    }

    func ended(_ status: ExitStatus) async -> ReplicaLifecycle.Action {
        let at = now()
        let stopping: Bool = if case .stopping = lifecycle.state { true } else { false }
        let action = lifecycle.exited(status, at: Date(timeIntervalSince1970: at))
        if !stopping {
            logger.warning("continuous job replica ended", metadata: ["status": "\(status)"])
            record.lastExit = status
            record.lastExitAt = at
        }
        record.pid = nil
        record.processStart = nil
        if var life {
            life.phase = .finished
            life.endedAt = at
            life.lastStatus = status
            life.outcome = .init(result: stopping ? .cancelled : status.isSuccess ? .succeeded : .failed, status: status, attempts: 1)
            self.life = nil
            try? await store.saveRun(life)
            if !stopping { await onLifeEnded(life) }
        }
        return action
    }

    /// The replica's port when the job has one ($PORT).
    var port: Int? { spec.port != nil ? record.port : nil }

    /// Nothing of this replica runs between lives, so a listener at its port is someone else's
    /// (squatted while it restarted): it moves to a fresh port rather than fail to bind, and the
    /// job's relay follows.
    private func moveIfPortTaken() async {
        guard spec.port != nil, record.port > 0, PortAllocator.isListenedOn(record.port),
            let fresh = try? PortAllocator.freeLoopbackPort()
        else { return }
        logger.warning("the replica's port is taken by another listener; it moves", metadata: ["port": "\(record.port)", "new_port": "\(fresh)"])
        record.port = fresh
        await save()
        await onPortMoved()
    }

    private func save() async {
        record.take(lifecycle)
        do {
            try await store.saveJobReplica(record, job: job)
            if let life { try await store.saveRun(life) }
        } catch {
            logger.error("cannot record the replica's state", metadata: ["error": "\(error)"])
        }
    }

    /// Now, as the records keep it (seconds since 1970).
    private func now() -> Double { clock.now().timeIntervalSince1970 }
}
