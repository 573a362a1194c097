extension ReplicaRecord {
    /// Takes the lifecycle's state as the record's: phase, restart history, why it failed.
    public mutating func take(_ lifecycle: ReplicaLifecycle) {
        failureTimes = lifecycle.failureTimes
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
