/// The logic of `kiln serve`'s proxy supervisor, as a state machine: one proxy process serving
/// (adopted from an earlier run of the platform, or started), restarted at once when it dies,
/// replaced without a gap when asked (the new one, listening with `SO_REUSEPORT` beside the old,
/// must be ready before the old one is told to drain), and stopped with the platform.
///
/// At most one start is in flight at a time; its end (`started` or `startFailed`) is always
/// reported.
struct ProxySupervision: Sendable, Hashable {
    enum State: Sendable, Hashable {
        case idle
        /// No proxy serves; a start is in flight (its attempt, counted from 1).
        case starting(attempt: Int)
        case serving(ProxyReadyFile.Process)
        /// `old` serves while its replacement starts.
        case replacing(old: ProxyReadyFile.Process)
        /// The platform stops, and waits for the start in flight to end (a proxy it started is
        /// stopped at once).
        case stopping
        case stopped
    }

    enum Action: Sendable, Hashable {
        case none
        /// Start a proxy process (after `delay`: a proxy that cannot start is not retried in a loop).
        case start(after: Duration)
        /// Watch this process for its end.
        case watch(ProxyReadyFile.Process)
        /// Watch the new one, and tell the old one to finish what it serves and go.
        case watchAndDrain(new: ProxyReadyFile.Process, old: ProxyReadyFile.Process)
        /// Stop this process (a proxy started while the platform stops, or the one serving).
        case stop(ProxyReadyFile.Process)
        /// Nothing is left to wait for.
        case finished
    }

    private(set) var state: State = .idle

    /// Delays between failed starts: at once, then 0.1 s doubling to 5 s.
    static func retryDelay(afterAttempt attempt: Int) -> Duration {
        guard attempt > 1 else { return .zero }
        return min(.milliseconds(100) * (1 << min(attempt - 2, 6)), .seconds(5))
    }

    /// The platform starts: adopt the proxy that still serves from its last run, or start one.
    mutating func begin(adopting running: ProxyReadyFile.Process?) -> Action {
        switch state {
        case .idle:
            if let running {
                state = .serving(running)
                return .watch(running)
            }
            state = .starting(attempt: 1)
            return .start(after: .zero)
        case .starting, .serving, .replacing, .stopping, .stopped:
            return .none
        }
    }

    /// The start in flight is ready: it listens and routes.
    mutating func started(_ process: ProxyReadyFile.Process) -> Action {
        switch state {
        case .starting:
            state = .serving(process)
            return .watch(process)
        case .replacing(let old):
            state = .serving(process)
            return .watchAndDrain(new: process, old: old)
        case .stopping:
            state = .stopped
            return .stop(process)
        case .idle, .serving, .stopped:
            // No start was in flight: not ours to keep.
            return .stop(process)
        }
    }

    /// The start in flight failed (the process ended or never became ready).
    mutating func startFailed() -> Action {
        switch state {
        case .starting(let attempt):
            state = .starting(attempt: attempt + 1)
            return .start(after: Self.retryDelay(afterAttempt: attempt + 1))
        case .replacing(let old):
            // The old proxy keeps serving; the reload is reported as failed.
            state = .serving(old)
            return .none
        case .stopping:
            state = .stopped
            return .finished
        case .idle, .serving, .stopped:
            return .none
        }
    }

    /// A watched proxy process ended.
    mutating func exited(_ process: ProxyReadyFile.Process) -> Action {
        switch state {
        case .serving(let current) where current == process:
            state = .starting(attempt: 1)
            return .start(after: .zero)
        case .replacing(let old) where old == process:
            // Its replacement is on the way: wait for it as for any start.
            state = .starting(attempt: 1)
            return .none
        case .idle, .starting, .serving, .replacing, .stopping, .stopped:
            return .none
        }
    }

    /// Asked to replace the proxy (SIGHUP, `kiln proxy reload`): a new binary or configuration.
    mutating func reload() -> Action {
        switch state {
        case .serving(let current):
            state = .replacing(old: current)
            return .start(after: .zero)
        case .idle, .starting, .replacing, .stopping, .stopped:
            return .none
        }
    }

    /// The platform stops.
    mutating func stop() -> Action {
        switch state {
        case .idle:
            state = .stopped
            return .finished
        case .starting:
            state = .stopping
            return .none
        case .serving(let current):
            state = .stopped
            return .stop(current)
        case .replacing(let old):
            state = .stopping
            return .stop(old)
        case .stopping, .stopped:
            return .none
        }
    }
}
