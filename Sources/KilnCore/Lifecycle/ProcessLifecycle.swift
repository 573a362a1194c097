/// The life of one supervised process (a webservice replica, a continuous job), as a pure state
/// machine: the supervisor feeds it what happened and does what it answers.
public struct ProcessLifecycle: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        /// Not running and not wanted.
        case stopped
        /// A start was asked for and the process is being spawned.
        case starting(attempt: Int)
        case running(pid: Int32, since: Double)
        /// It died; it starts again at `until`.
        case backingOff(until: Double)
        /// It died too often in the window; it stays down until started by hand.
        case failed(reason: String)
        /// A stop was asked for; waiting for the process to exit.
        case stopping(pid: Int32?)
    }

    public enum Action: Sendable, Hashable {
        case none
        case spawn
        case startAgain(after: Double)
        case terminate(pid: Int32)
        case giveUp(reason: String)
    }

    public private(set) var state: State
    /// When the recent deaths happened (seconds), the oldest first; only those in the window count.
    public private(set) var failureTimes: [Double]
    public let policy: RestartPolicy
    private var attempts = 0

    public init(policy: RestartPolicy = RestartPolicy(), failureTimes: [Double] = [], state: State = .stopped) {
        self.policy = policy
        self.failureTimes = failureTimes
        self.state = state
    }

    public var isWanted: Bool {
        switch state {
        case .stopped, .failed, .stopping: false
        case .starting, .running, .backingOff: true
        }
    }

    /// Starting by hand also clears a failed state and its history.
    public mutating func start() -> Action {
        switch state {
        case .stopped, .failed:
            if case .failed = state { failureTimes.removeAll() }
            attempts += 1
            state = .starting(attempt: attempts)
            return .spawn
        case .backingOff:
            attempts += 1
            state = .starting(attempt: attempts)
            return .spawn
        case .starting, .running, .stopping:
            return .none
        }
    }

    public mutating func spawned(pid: Int32, at now: Double) -> Action {
        guard case .starting = state else { return .terminate(pid: pid) }
        state = .running(pid: pid, since: now)
        return .none
    }

    /// The process exited (or could not be spawned at all). While wanted, that is a failure.
    public mutating func exited(at now: Double, reason: String) -> Action {
        switch state {
        case .stopping:
            state = .stopped
            return .none
        case .starting, .running:
            failureTimes.append(now)
            failureTimes.removeAll { now - $0 > policy.failureWindow }
            if failureTimes.count >= policy.maximumFailures {
                let message = "\(failureTimes.count) failures in \(Int(policy.failureWindow)) s; last: \(reason)"
                state = .failed(reason: message)
                return .giveUp(reason: message)
            }
            let delay = policy.backoff(afterFailures: failureTimes.count)
            state = .backingOff(until: now + delay)
            return .startAgain(after: delay)
        case .stopped, .failed, .backingOff:
            return .none
        }
    }

    public mutating func stop() -> Action {
        switch state {
        case .running(let pid, _):
            state = .stopping(pid: pid)
            return .terminate(pid: pid)
        case .starting:
            state = .stopping(pid: nil)
            return .none
        case .backingOff, .failed:
            state = .stopped
            return .none
        case .stopped, .stopping:
            return .none
        }
    }
}
