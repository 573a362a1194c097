import Foundation

/// The life of one run of a job (a one-off, or a scheduled job's run for one tick) with its
/// retries, as a pure state machine: the runner feeds it what happened and carries out the action
/// it answers. Time is passed in (wall-clock instants: a run's deadline and retry time are stored
/// and outlive the process), so every transition is unit-tested.
///
/// A failed attempt (a non-zero exit, a signal, a process that could not start) is retried up to
/// `retries` times, after 10 s, 20 s, 40 s …; a run past its timeout has its whole process tree
/// killed and ends as timed out, without retry (as a Kubernetes job past its deadline). A backend
/// that cannot be reached (a grid's qmaster or slurmctld down) costs no attempt: the run waits and
/// submits again, 2 s doubling to 30 s, for as long as it takes.
public struct JobRunLifecycle: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        /// Claimed (for its tick, or by `jobs run`), not started yet.
        case queued
        /// The attempt is being started; `waits` counts the tries of an unreachable backend in a
        /// row before it (the backoff's), 0 once a backend is reached.
        case spawning(attempt: Int, waits: Int = 0)
        case running(attempt: Int, pid: Int32, deadline: Date)
        /// Its time ran out, or a cancel was asked: the process tree is being killed.
        case stopping(attempt: Int, pid: Int32, reason: StopReason)
        /// An attempt failed; attempt `attempt` starts at `after`.
        case retrying(attempt: Int, after: Date, last: ExitStatus)
        /// The backend could not be reached to start attempt `attempt`; it is asked again at
        /// `after`. `waits` counts the tries so far, for the backoff.
        case waitingForBackend(attempt: Int, after: Date, reason: String, waits: Int)
        case finished(Outcome)
    }

    public enum StopReason: String, Sendable, Hashable, Codable {
        case timeout, cancelled
    }

    /// How the run ended, as history, `show` and emails report it.
    public struct Outcome: Sendable, Hashable, Codable {
        public enum Result: String, Sendable, Hashable, Codable {
            case succeeded, failed, timedOut = "timed-out", cancelled
        }

        public var result: Result
        /// The last attempt's end; nil when none was started.
        public var status: ExitStatus?
        public var attempts: Int

        public init(result: Result, status: ExitStatus?, attempts: Int) {
            self.result = result
            self.status = status
            self.attempts = attempts
        }

        /// What `--emails onfailure` counts: every way a run can fail (a cancel asked by the tool is not one).
        public var isFailure: Bool { result == .failed || result == .timedOut }
    }

    public enum Action: Sendable, Hashable {
        case none
        case spawn(attempt: Int)
        /// Kill the run's process group (the whole tree).
        case killTree(pid: Int32)
        case startAgain(after: Date)
        /// Record the outcome (and send the mails the job asks for).
        case finish(Outcome)
    }

    public let retries: Int
    /// How long an attempt may run.
    public let timeout: Duration
    public private(set) var state: State
    private var cancelRequested = false

    public init(retries: Int, timeout: Duration, state: State = .queued) {
        self.retries = retries
        self.timeout = timeout
        self.state = state
    }

    /// The wait before attempt `attempt` (2 or later): 10 s, 20 s, 40 s …, at most 5 minutes.
    public static func retryDelay(before attempt: Int) -> Duration {
        min(.seconds(300), .seconds(10 * (1 << min(max(attempt - 2, 0), 10))))
    }

    /// The wait before asking an unreachable backend again, after `waits` tries: 2 s doubling to 30 s.
    public static func backendWaitDelay(after waits: Int) -> Duration {
        min(.seconds(30), .seconds(2 * (1 << min(max(waits - 1, 0), 10))))
    }

    public var isFinished: Bool { if case .finished = state { true } else { false } }

    public mutating func start(now: Date) -> Action {
        guard case .queued = state else { return .none }
        state = .spawning(attempt: 1)
        return .spawn(attempt: 1)
    }

    public mutating func spawned(pid: Int32, now: Date) -> Action {
        guard case .spawning(let attempt, _) = state else { return .killTree(pid: pid) }
        if cancelRequested {
            state = .stopping(attempt: attempt, pid: pid, reason: .cancelled)
            return .killTree(pid: pid)
        }
        state = .running(attempt: attempt, pid: pid, deadline: now + timeout)
        return .none
    }

    public mutating func spawnFailed(reason: String, now: Date) -> Action {
        guard case .spawning(let attempt, _) = state else { return .none }
        return attemptEnded(attempt: attempt, status: .couldNotStart(reason: reason), now: now)
    }

    /// The backend could not be reached: the attempt did not happen, and is asked for again later.
    public mutating func backendUnreachable(reason: String, now: Date) -> Action {
        guard case .spawning(let attempt, let waitsBefore) = state else { return .none }
        if cancelRequested { return finish(Outcome(result: .cancelled, status: nil, attempts: attempt - 1)) }
        let waits = waitsBefore + 1
        let after = now + Self.backendWaitDelay(after: waits)
        state = .waitingForBackend(attempt: attempt, after: after, reason: reason, waits: waits)
        return .startAgain(after: after)
    }

    public mutating func exited(_ status: ExitStatus, now: Date) -> Action {
        switch state {
        case .running(let attempt, _, _):
            return attemptEnded(attempt: attempt, status: status, now: now)
        case .stopping(let attempt, _, let reason):
            return finish(Outcome(result: reason == .timeout ? .timedOut : .cancelled, status: status, attempts: attempt))
        case .queued, .spawning, .retrying, .waitingForBackend, .finished:
            return .none
        }
    }

    /// Called when the clock reaches a deadline the runner was told of (`running`'s, `retrying`'s).
    public mutating func tick(now: Date) -> Action {
        switch state {
        case .running(let attempt, let pid, let deadline):
            guard now >= deadline else { return .none }
            state = .stopping(attempt: attempt, pid: pid, reason: .timeout)
            return .killTree(pid: pid)
        case .retrying(let attempt, let after, _):
            guard now >= after else { return .none }
            state = .spawning(attempt: attempt)
            return .spawn(attempt: attempt)
        case .waitingForBackend(let attempt, let after, _, let waits):
            guard now >= after else { return .none }
            state = .spawning(attempt: attempt, waits: waits)
            return .spawn(attempt: attempt)
        case .queued, .spawning, .stopping, .finished:
            return .none
        }
    }

    /// `jobs delete`, `flush` or `restart`: the run ends now, as cancelled.
    public mutating func cancel(now: Date) -> Action {
        switch state {
        case .queued:
            return finish(Outcome(result: .cancelled, status: nil, attempts: 0))
        case .retrying(let attempt, _, let last):
            return finish(Outcome(result: .cancelled, status: last, attempts: attempt - 1))
        case .waitingForBackend(let attempt, _, _, _):
            return finish(Outcome(result: .cancelled, status: nil, attempts: attempt - 1))
        case .spawning:
            cancelRequested = true
            return .none
        case .running(let attempt, let pid, _):
            state = .stopping(attempt: attempt, pid: pid, reason: .cancelled)
            return .killTree(pid: pid)
        case .stopping, .finished:
            return .none
        }
    }

    private mutating func attemptEnded(attempt: Int, status: ExitStatus, now: Date) -> Action {
        if status.isSuccess { return finish(Outcome(result: .succeeded, status: status, attempts: attempt)) }
        if cancelRequested { return finish(Outcome(result: .cancelled, status: status, attempts: attempt)) }
        guard attempt <= retries else { return finish(Outcome(result: .failed, status: status, attempts: attempt)) }
        let after = now + Self.retryDelay(before: attempt + 1)
        state = .retrying(attempt: attempt + 1, after: after, last: status)
        return .startAgain(after: after)
    }

    private mutating func finish(_ outcome: Outcome) -> Action {
        state = .finished(outcome)
        return .finish(outcome)
    }
}
