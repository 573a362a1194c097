import Foundation

/// The life of one replica of a webservice, as a pure state machine: the monitor feeds it what
/// happened (spawned, answered its health check, exited, a stop was asked) and carries out the
/// action it answers. Time is passed in (wall-clock instants: they are stored, and outlive the
/// process), so every transition is unit-tested without waiting.
///
/// A replica is routed only while `serving`: it is registered with the proxy once it answers its
/// health check, and deregistered before it is stopped or as soon as it is seen dead.
public struct ReplicaLifecycle: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        /// Not running and not wanted.
        case idle
        /// A start was asked for and the process is being spawned.
        case spawning
        /// Running, not yet answering its health check: not routed.
        case probing(pid: Int32, since: Date)
        /// Answering and registered with the proxy.
        case serving(pid: Int32, since: Date)
        /// It died; it is started again at `until`.
        case backingOff(until: Date, last: ExitStatus)
        /// It died too often in the window; it stays down until started again by hand.
        case failed(reason: String, last: ExitStatus)
        /// A stop was asked for; waiting for the process (if any) to exit.
        case stopping(pid: Int32?)
    }

    public enum Action: Sendable, Hashable {
        case none
        case spawn
        /// Probe the new process until it answers (or the start timeout passes).
        case probe(pid: Int32)
        /// Register the replica's backend with the proxy.
        case register
        /// Remove the backend from the proxy, then stop the process group.
        case deregisterAndTerminate(pid: Int32)
        case terminate(pid: Int32)
        case startAgain(after: Duration)
        case giveUp(reason: String)
    }

    public private(set) var state: State
    /// When the recent deaths happened, the oldest first; only those in the policy's window
    /// count. Persisted, so a restart of the platform does not forget a crash loop.
    public private(set) var failureTimes: [Date]
    /// Every death since the webservice was started, for status.
    public private(set) var restarts: Int
    public let policy: RestartPolicy

    public init(policy: RestartPolicy = RestartPolicy(), failureTimes: [Date] = [], restarts: Int = 0, state: State = .idle) {
        self.policy = policy
        self.failureTimes = failureTimes
        self.restarts = restarts
        self.state = state
    }

    /// The last exit, while the replica is down because of it.
    public var lastExit: ExitStatus? {
        switch state {
        case .backingOff(_, let last), .failed(_, let last): last
        case .idle, .spawning, .probing, .serving, .stopping: nil
        }
    }

    public var pid: Int32? {
        switch state {
        case .probing(let pid, _), .serving(let pid, _): pid
        case .stopping(let pid): pid
        case .idle, .spawning, .backingOff, .failed: nil
        }
    }

    /// Started by hand: also clears a failed state and its history.
    public mutating func start() -> Action {
        switch state {
        case .idle, .failed:
            if case .failed = state {
                failureTimes.removeAll()
                restarts = 0
            }
            state = .spawning
            return .spawn
        case .backingOff:
            state = .spawning
            return .spawn
        case .spawning, .probing, .serving, .stopping:
            return .none
        }
    }

    /// The backoff is over: start again unless something else happened meanwhile.
    public mutating func backoffElapsed() -> Action {
        guard case .backingOff = state else { return .none }
        state = .spawning
        return .spawn
    }

    public mutating func spawned(pid: Int32, at now: Date) -> Action {
        switch state {
        case .spawning:
            state = .probing(pid: pid, since: now)
            return .probe(pid: pid)
        case .stopping(nil):
            // Stopped while spawning: the new process must go at once.
            state = .stopping(pid: pid)
            return .terminate(pid: pid)
        case .idle, .probing, .serving, .backingOff, .failed, .stopping(.some):
            // Not wanted (or another already runs): the new process goes.
            return .terminate(pid: pid)
        }
    }

    /// A process that was running before the platform restarted, found alive and answering.
    public mutating func adopted(pid: Int32, since: Date) -> Action {
        switch state {
        case .idle, .spawning, .backingOff:
            state = .serving(pid: pid, since: since)
            return .register
        case .probing, .serving, .failed, .stopping:
            return .none
        }
    }

    public mutating func healthy() -> Action {
        guard case .probing(let pid, let since) = state else { return .none }
        state = .serving(pid: pid, since: since)
        return .register
    }

    /// The process never answered in time: stop it; its exit then counts as a failure.
    public mutating func unhealthy() -> Action {
        guard case .probing(let pid, _) = state else { return .none }
        return .terminate(pid: pid)
    }

    /// The process exited, or could not be spawned at all. While wanted, that is a failure. A
    /// dead process's backend is deregistered whatever the action (the monitor does that first).
    public mutating func exited(_ status: ExitStatus, at now: Date) -> Action {
        switch state {
        case .stopping:
            state = .idle
            return .none
        case .spawning, .probing, .serving:
            failureTimes.append(now)
            failureTimes.removeAll { now.duration(since: $0) > policy.failureWindow }
            restarts += 1
            if failureTimes.count >= policy.maximumFailures {
                let reason = "\(failureTimes.count) failures in \(policy.failureWindow.spoken); last: \(status)"
                state = .failed(reason: reason, last: status)
                return .giveUp(reason: reason)
            }
            // One death is restarted at once (a visitor should not wait for it); a crash loop
            // backs off from the second death on, 1 s doubling.
            let delay = failureTimes.count == 1 ? .zero : policy.backoff(afterFailures: failureTimes.count - 1)
            state = .backingOff(until: now + delay, last: status)
            return .startAgain(after: delay)
        case .idle, .backingOff, .failed:
            return .none
        }
    }

    public mutating func stop() -> Action {
        switch state {
        case .serving(let pid, _):
            state = .stopping(pid: pid)
            return .deregisterAndTerminate(pid: pid)
        case .probing(let pid, _):
            state = .stopping(pid: pid)
            return .terminate(pid: pid)
        case .spawning:
            state = .stopping(pid: nil)
            return .none
        case .backingOff, .failed:
            state = .idle
            return .none
        case .idle, .stopping:
            return .none
        }
    }
}
