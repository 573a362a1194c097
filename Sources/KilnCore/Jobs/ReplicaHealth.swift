/// What a continuous job's replica's health checks have said, as a pure state machine (as
/// Kubernetes keeps a startup and a liveness probe): the driver probes when it says, feeds it
/// each outcome and carries out the action it answers. No clock inside: the waits it asks for
/// are Durations the driver sleeps on its own clock.
///
///     starting ──passed──▶ ready ──failed──▶ failing(1) ─ … ─▶ failing(threshold) = unhealthy
///        ▲ failed             ▲                  │ passed
///        └─────┘              └──────────────────┘
///
/// A replica that never becomes ready is the driver's start timeout's business; one that is
/// `unhealthy` is stopped and started again (a new life, a new machine).
public struct ReplicaHealth: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        /// Not yet answered: probed every `startInterval`.
        case starting
        /// Answered its last probe: probed every `period`.
        case ready
        /// `count` probes in a row failed since it was ready; `last` says how.
        case failing(count: Int, last: String)
        /// Failed `failureThreshold` probes in a row: it must be restarted.
        case unhealthy(reason: String)
    }

    public enum Outcome: Sendable, Hashable {
        case passed
        /// Why: "GET /healthz answered 503", "no answer within 5 s".
        case failed(String)
    }

    public enum Action: Sendable, Hashable {
        /// Probe again after this wait.
        case probe(after: Duration)
        /// It just became ready (route it, count it running); probe again after this wait.
        case ready(probeAfter: Duration)
        /// Stop it and start it again: its check failed too often in a row.
        case restart(reason: String)
        /// Nothing more to do (it is already to be restarted).
        case none
    }

    public let policy: ProbePolicy
    public private(set) var state: State

    public init(policy: ProbePolicy = ProbePolicy(), state: State = .starting) {
        self.policy = policy
        self.state = state
    }

    /// The first probe: at once while starting; a period after a ready one (an adopted replica).
    public var firstProbe: Action {
        switch state {
        case .starting: .probe(after: .zero)
        case .ready, .failing: .probe(after: policy.period)
        case .unhealthy: .none
        }
    }

    public mutating func record(_ outcome: Outcome) -> Action {
        switch (state, outcome) {
        case (.starting, .passed):
            state = .ready
            return .ready(probeAfter: policy.period)
        case (.starting, .failed):
            return .probe(after: policy.startInterval)
        case (.ready, .passed), (.failing, .passed):
            state = .ready
            return .probe(after: policy.period)
        case (.ready, .failed(let why)):
            return failed(count: 1, why)
        case (.failing(let count, _), .failed(let why)):
            return failed(count: count + 1, why)
        case (.unhealthy, .passed), (.unhealthy, .failed):
            return .none
        }
    }

    private mutating func failed(count: Int, _ why: String) -> Action {
        guard count >= policy.failureThreshold else {
            state = .failing(count: count, last: why)
            return .probe(after: policy.period)
        }
        let reason =
            "its health check failed \(count) time\(count == 1 ? "" : "s") in a row, \(policy.period.spoken) apart (last: \(why))"
        state = .unhealthy(reason: reason)
        return .restart(reason: reason)
    }
}
