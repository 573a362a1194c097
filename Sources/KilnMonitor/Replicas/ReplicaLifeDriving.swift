import KilnCore

/// A driver of one replica (a webservice's, on this host or a grid; a continuous job's): what it
/// does for each action its `ReplicaLifecycle` answers. The loop that carries the actions out is
/// the same for all of them.
protocol ReplicaLifeDriving: Actor {
    /// One life: start it, see it through, and return what the lifecycle says comes next.
    func live() async -> ReplicaLifecycle.Action
    /// Waits out `delay` before the next life; the lifecycle's word after it, or nil when the
    /// driving was cancelled meanwhile.
    func backOff(_ delay: Duration) async -> ReplicaLifecycle.Action?
    /// Too many deaths: the replica stays down until started again.
    func gaveUp(_ reason: String) async
    /// Nothing to do until something else happens (a stop, a shutdown).
    func rest() async
}

extension ReplicaLifeDriving {
    /// Carries out `first` and every action after it, until the lifecycle rests or the driving
    /// is cancelled.
    func carryOut(_ first: ReplicaLifecycle.Action) async {
        var action = first
        while !Task.isCancelled {
            switch action {
            case .spawn:
                action = await live()
            case .startAgain(let delay):
                guard let next = await backOff(delay) else { return }
                action = next
            case .giveUp(let reason):
                await gaveUp(reason)
                return
            case .none, .probe, .register, .terminate, .deregisterAndTerminate:
                await rest()
                return
            }
        }
    }
}
