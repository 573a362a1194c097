import Foundation

extension ReplicaRecord {
    /// A lifecycle that goes on from what this record kept (its crash history above all).
    public func lifecycle(policy: RestartPolicy) -> ReplicaLifecycle {
        ReplicaLifecycle(policy: policy, failureTimes: failureTimes.map(Date.init(timeIntervalSince1970:)), restarts: restarts)
    }

    /// Takes the lifecycle's state as the record's: phase, restart history, why it failed.
    public mutating func take(_ lifecycle: ReplicaLifecycle) {
        failureTimes = lifecycle.failureTimes.map(\.timeIntervalSince1970)
        restarts = lifecycle.restarts
        switch lifecycle.state {
        case .idle: phase = .stopped
        case .spawning, .probing, .stopping: phase = .starting
        case .serving: phase = .serving
        case .backingOff: phase = .backingOff
        case .failed(let reason, _):
            phase = .failed
            failedReason = reason
        }
        if phase != .failed { failedReason = nil }
    }
}
