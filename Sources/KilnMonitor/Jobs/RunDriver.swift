import Foundation
import KilnCore
import KilnRunner
import Logging

/// Carries one run of a job (a one-off's, a scheduled tick's, a restart's) through its
/// `JobRunLifecycle`: submits each attempt to the backend, waits for its end or its deadline,
/// retries after the delays the lifecycle says, and records every step in the store, so that a
/// restart of the platform picks the run up where it was (adopting a running attempt).
///
/// Cancelling the driver's task detaches it (the platform shuts down: the attempt keeps running
/// and is adopted at the next start); `cancel()` stops the run itself.
actor RunDriver {
    nonisolated let runID: Int64
    nonisolated let tool: ToolName
    nonisolated let job: String
    let submission: @Sendable (_ run: JobRun, _ attempt: Int) throws(KilnError) -> JobSubmission
    let backend: any JobBackend
    let recorder: RunRecorder
    let clock: any JobClock
    let logger: Logger
    /// The run's first attempt started (not an adopted one, not a retry).
    let onStart: @Sendable (JobRun) async -> Void
    let onFinish: @Sendable (JobRun) async -> Void
    private var run: JobRun
    private var lifecycle: JobRunLifecycle
    private var task: Task<Void, Never>?

    /// How long a cancelled or timed-out attempt has between TERM and KILL.
    static let stopGrace: Duration = .seconds(5)

    init(
        run: JobRun, spec: JobSpec, backend: any JobBackend, recorder: RunRecorder, clock: any JobClock, logger: Logger,
        submission: @escaping @Sendable (JobRun, Int) throws(KilnError) -> JobSubmission,
        onStart: @escaping @Sendable (JobRun) async -> Void = { _ in }, onFinish: @escaping @Sendable (JobRun) async -> Void
    ) {
        self.onStart = onStart
        runID = run.id
        tool = run.tool
        job = run.job
        self.run = run
        self.backend = backend
        self.recorder = recorder
        self.clock = clock
        self.submission = submission
        self.onFinish = onFinish
        var logger = logger
        logger[metadataKey: "tool"] = "\(run.tool)"
        logger[metadataKey: "job"] = "\(run.job)"
        logger[metadataKey: "run"] = "\(run.id)"
        self.logger = logger
        lifecycle = JobRunLifecycle(retries: spec.retry, timeout: .seconds(spec.effectiveTimeout), state: Self.state(of: run))
    }

    /// The lifecycle state a stored run is in (a run carried on after a restart of the platform).
    static func state(of run: JobRun) -> JobRunLifecycle.State {
        switch run.phase {
        case .queued:
            return .queued
        case .running:
            guard let handle = run.handle else { return .queued }
            return .running(
                attempt: max(run.attempt, 1), pid: Int32(handle.id) ?? 0,
                deadline: run.deadline.map(Date.init(timeIntervalSince1970:)) ?? .distantFuture)
        case .retrying:
            return .retrying(
                attempt: run.attempt + 1, after: Date(timeIntervalSince1970: run.retryAt ?? 0), last: run.lastStatus ?? .unknown)
        case .waiting:
            // The attempt it waits to start is the one after those that ran; its tries so far
            // are not kept: the backoff starts again, short, after a restart of the platform.
            return .waitingForBackend(
                attempt: run.attempt + 1, after: Date(timeIntervalSince1970: run.retryAt ?? 0),
                reason: run.waitReason ?? "its backend cannot be reached", waits: 1)
        case .finished:
            return .finished(run.outcome ?? .init(result: .cancelled, status: nil, attempts: run.attempt))
        }
    }

    var current: JobRun { run }

    func begin() {
        guard task == nil else { return }
        task = Task { await self.drive() }
    }

    /// Returns once the driver has stopped (the run finished, or the driver was detached).
    func finished() async { await task?.value }

    /// Leaves the run to be adopted later: the platform shuts down.
    func detach() { task?.cancel() }

    /// Stops the run now (`delete`, `flush`, `restart`): its attempt's process tree is killed and
    /// it is recorded as cancelled. Returns once it is.
    func cancel() async {
        let action = lifecycle.cancel(now: now())
        switch action {
        case .killTree:
            if let handle = run.handle { await backend.cancel(handle, grace: Self.stopGrace) }
        case .finish(let outcome):
            task?.cancel()
            await finalize(outcome)
        case .none, .spawn, .startAgain:
            break
        }
        await task?.value
    }

    // MARK: Driving

    private func drive() async {
        var action: JobRunLifecycle.Action
        switch lifecycle.state {
        case .queued:
            action = lifecycle.start(now: now())
        case .running:
            guard let handle = run.handle, let next = await awaitAttempt(handle) else { return }
            logger.info("adopted a job run that outlived the platform", metadata: ["pid": "\(handle.id)"])
            action = next
        case .retrying(_, let after, _), .waitingForBackend(_, let after, _, _):
            action = .startAgain(after: after)
        case .spawning, .stopping, .finished:
            return
        }
        while true {
            switch action {
            case .spawn(let attempt):
                guard let next = await spawn(attempt: attempt) else { return }
                action = next
            case .startAgain(let after):
                if case .waitingForBackend(_, _, let reason, _) = lifecycle.state {
                    run.phase = .waiting
                    run.waitReason = reason
                } else {
                    run.phase = .retrying
                    run.waitReason = nil
                }
                run.retryAt = after.timeIntervalSince1970
                run.handle = nil
                await save()
                do {
                    try await clock.sleepUntilReached(after)
                } catch {
                    return
                }
                action = lifecycle.tick(now: max(now(), after))
            case .killTree(let pid):
                logger.notice("stopping a job run's process tree", metadata: ["pid": "\(pid)"])
                guard let handle = run.handle else { return }
                await backend.cancel(handle, grace: Self.stopGrace)
                guard let next = await awaitAttempt(handle) else { return }
                action = next
            case .finish(let outcome):
                await finalize(outcome)
                return
            case .none:
                return
            }
        }
    }

    /// Starts attempt `attempt` and waits for it; nil when the driver was detached.
    private func spawn(attempt: Int) async -> JobRunLifecycle.Action? {
        let handle: JobHandle
        do {
            handle = try await backend.submit(submission(run, attempt))
        } catch where error.isBackendUnreachable {
            logger.warning("a job run waits for its backend", metadata: ["error": "\(error.message)"])
            return lifecycle.backendUnreachable(reason: error.message, now: now())
        } catch {
            logger.warning("a job run could not start", metadata: ["error": "\(error.message)"])
            run.attempt = attempt
            return lifecycle.spawnFailed(reason: error.message, now: now())
        }
        let started = now()
        let startedSeconds = started.timeIntervalSince1970
        // A run starts once, however many attempts it takes.
        let first = run.startedAt == nil
        run.phase = .running
        run.attempt = attempt
        run.startedAt = run.startedAt ?? startedSeconds
        run.handle = handle
        run.retryAt = nil
        run.waitReason = nil
        run.deadline = (started + lifecycle.timeout).timeIntervalSince1970
        if case .killTree = lifecycle.spawned(pid: Int32(handle.id) ?? 0, now: started) {
            await backend.cancel(handle, grace: Self.stopGrace)
        }
        await save()
        if first { await onStart(run) }
        return await awaitAttempt(handle)
    }

    private enum Wake: Sendable {
        case ended(ExitStatus)
        case deadline
    }

    /// Waits for the attempt's end, killing its tree at its deadline; nil when detached.
    private func awaitAttempt(_ handle: JobHandle) async -> JobRunLifecycle.Action? {
        while true {
            var deadline: Date?
            if case .running(_, _, let at) = lifecycle.state, at != .distantFuture { deadline = at }
            let backend = self.backend
            let clock = self.clock
            let wake: Wake
            do {
                wake = try await withThrowingTaskGroup(of: Wake.self) { group in
                    group.addTask { .ended(try await backend.waitForEnd(handle)) }
                    if let deadline {
                        group.addTask {
                            try await clock.sleepUntilReached(deadline)
                            return .deadline
                        }
                    }
                    guard let first = try await group.next() else { throw CancellationError() }
                    group.cancelAll()
                    return first
                }
            } catch {
                return nil
            }
            switch wake {
            case .ended(let status):
                run.lastStatus = status
                return lifecycle.exited(status, now: now())
            case .deadline:
                if case .killTree = lifecycle.tick(now: max(now(), deadline ?? .distantPast)) {
                    logger.notice("a job run passed its timeout; killing its process tree", metadata: ["timeout": "\(lifecycle.timeout)"])
                    await backend.cancel(handle, grace: Self.stopGrace)
                }
            }
        }
    }

    private func finalize(_ outcome: JobRunLifecycle.Outcome) async {
        run.phase = .finished
        run.outcome = outcome
        run.lastStatus = outcome.status ?? run.lastStatus
        run.endedAt = now().timeIntervalSince1970
        run.deadline = nil
        run.retryAt = nil
        // The monitor hears of the end first, so that no one who reads the finished run from
        // the store can find the job still counted as running (its next tick would be skipped).
        await onFinish(run)
        await save()
        logger.info("job run finished", metadata: ["result": "\(outcome.result.rawValue)", "attempts": "\(outcome.attempts)"])
    }

    private func save() async {
        await recorder.save(run)
    }

    private func now() -> Date { clock.now() }
}
