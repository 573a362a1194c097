/// A rolling restart of a webservice's replicas on this host, as a pure state machine: a new
/// generation of replicas (fresh indices, so fresh ports, control groups, generated files and
/// records) is started next to the old one, and only once every new replica serves (answered its
/// health check and is routed) are the old ones taken out of the proxy and stopped. When a new
/// replica does not come up (it dies, fails, or has not answered by the deadline) the new ones are
/// stopped and the old ones stay: the webservice keeps serving what it served.
///
/// The monitor feeds it what the new replicas' records say and what it finished doing, and carries
/// out the action it answers. Time is passed in (clock instants: nothing here is stored), so every
/// transition is unit-tested without waiting.
public struct WebserviceRollout: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        /// Asked for: the tool is the rollout's (no other restart may begin), and its
        /// generations are being worked out (the launch checked, indices and ports picked).
        case preparing
        /// The new replicas were started; the old ones still serve.
        case startingNew(deadline: ContinuousClock.Instant)
        /// Every new replica serves and is routed: the old ones are being taken out and stopped.
        case retiringOld
        /// The old replicas are gone; the new ones are the webservice.
        case replaced
        /// A new replica did not come up (`reason`): the new ones are being stopped.
        case abandoning(reason: String)
        /// The new replicas are gone; the old ones are still the webservice.
        case abandoned(reason: String)
        /// A stop, a start or the platform's shutdown took the webservice over before the
        /// rollout was done: it does nothing more (what it started was stopped by the taker).
        case interrupted
    }

    public enum Action: Sendable, Hashable {
        case none
        /// Record the new replicas and start them.
        case startNew([Int])
        /// Look at the new replicas again a little later.
        case wait
        /// Deregister the old replicas, then stop them (gracefully).
        case retire(old: Set<Int>)
        /// Stop the new replicas (deregistering any that serve); the old ones stay.
        case stopNew(Set<Int>, reason: String)
        /// Forget the records of these replicas: they are down and no longer the webservice's.
        case forget(Set<Int>)
    }

    /// The replicas that served before (their indices): they serve until `retire`.
    public private(set) var old: Set<Int> = []
    /// The new generation's indices, none of them an old one's.
    public private(set) var new: [Int] = []
    public private(set) var state: State = .preparing

    public init() {}

    /// The generations are known: the new one is started (unless the rollout was interrupted
    /// meanwhile). New replicas must serve by `deadline`.
    public mutating func prepared(old: Set<Int>, new: [Int], deadline: ContinuousClock.Instant) -> Action {
        switch state {
        case .preparing:
            precondition(old.isDisjoint(with: new), "a new replica may not share an old one's index")
            self.old = old
            self.new = new
            state = .startingNew(deadline: deadline)
            return .startNew(new)
        case .startingNew, .retiringOld, .replaced, .abandoning, .abandoned, .interrupted:
            return .none
        }
    }

    /// The first `count` indices that no replica in `taken` uses, lowest first: a restart of
    /// replicas 0 and 1 brings up 2 and 3, the next one 0 and 1 again.
    public static func freshIndices(count: Int, avoiding taken: Set<Int>) -> [Int] {
        var fresh: [Int] = []
        var candidate = 0
        while fresh.count < count {
            if !taken.contains(candidate) { fresh.append(candidate) }
            candidate += 1
        }
        return fresh
    }

    /// What the new replicas' records say now (other records are ignored).
    public mutating func observed(_ records: [ReplicaRecord], at now: ContinuousClock.Instant) -> Action {
        switch state {
        case .startingNew(let deadline):
            let newRecords = records.filter { new.contains($0.index) }
            if let reason = Self.notComingUp(newRecords) {
                return abandon(reason)
            }
            let serving = Set(newRecords.filter { $0.phase == .serving }.map(\.index))
            if serving == Set(new) {
                state = .retiringOld
                return .retire(old: old)
            }
            if now >= deadline {
                let waiting = new.filter { !serving.contains($0) }.map(String.init).joined(separator: ", ")
                return abandon("new replica(s) \(waiting) did not answer the health check in time")
            }
            return .wait
        case .preparing, .retiringOld, .replaced, .abandoning, .abandoned, .interrupted:
            return .none
        }
    }

    /// The old replicas are down (deregistered, stopped).
    public mutating func oldRetired() -> Action {
        switch state {
        case .retiringOld:
            state = .replaced
            return old.isEmpty ? .none : .forget(old)
        case .preparing, .startingNew, .replaced, .abandoning, .abandoned, .interrupted:
            return .none
        }
    }

    /// The new replicas are down after an abandon.
    public mutating func newStopped() -> Action {
        switch state {
        case .abandoning(let reason):
            state = .abandoned(reason: reason)
            return .forget(Set(new))
        case .preparing, .startingNew, .retiringOld, .replaced, .abandoned, .interrupted:
            return .none
        }
    }

    /// Someone else took the webservice over (a stop, a start, the shutdown): the rollout ends
    /// where it is and forgets nothing, since the records may already be the taker's.
    public mutating func interrupted() -> Action {
        switch state {
        case .preparing, .startingNew, .retiringOld, .abandoning:
            state = .interrupted
            return .none
        case .replaced, .abandoned, .interrupted:
            return .none
        }
    }

    /// Whether the rollout still has work to do.
    public var isUnderWay: Bool {
        switch state {
        case .preparing, .startingNew, .retiringOld, .abandoning: true
        case .replaced, .abandoned, .interrupted: false
        }
    }

    /// The replicas status shows as the webservice's: the old until they are replaced, then the
    /// new; nil (every record) while the generations are not known yet.
    public var shown: Set<Int>? {
        switch state {
        case .preparing: nil
        case .startingNew, .abandoning, .abandoned, .interrupted: old
        case .retiringOld, .replaced: Set(new)
        }
    }

    private mutating func abandon(_ reason: String) -> Action {
        state = .abandoning(reason: reason)
        return .stopNew(Set(new), reason: reason)
    }

    /// Why the new generation is not coming up, if it is not: one of its replicas failed, or
    /// died (even if it is being started again: a generation that dies while the old one still
    /// serves is not put in its place).
    static func notComingUp(_ records: [ReplicaRecord]) -> String? {
        for record in records.sorted(by: { $0.index < $1.index }) {
            switch record.phase {
            case .failed:
                return "new replica \(record.index) failed: \(record.failedReason ?? record.lastExit?.description ?? "it gave up")"
            case .backingOff, .stopped:
                return "new replica \(record.index) ended: \(record.lastExit?.description ?? "it stopped")"
            case .starting, .serving:
                if record.restarts > 0 || record.lastExit != nil {
                    return "new replica \(record.index) ended: \(record.lastExit?.description ?? "it died")"
                }
            }
        }
        return nil
    }
}

extension WebserviceRollout {
    /// What to keep of a webservice's replica records at start-up, when there are more than
    /// `wanted` (the platform went down in the middle of a rolling restart, both generations
    /// recorded): those that served first, then the lowest indices; the others are dropped
    /// (their processes stopped, their records forgotten).
    public static func leftovers(_ records: [ReplicaRecord], wanted: Int) -> (kept: [ReplicaRecord], dropped: [ReplicaRecord]) {
        guard records.count > wanted else { return (records.sorted { $0.index < $1.index }, []) }
        let ranked = records.sorted { ($0.phase == .serving ? 0 : 1, $0.index) < ($1.phase == .serving ? 0 : 1, $1.index) }
        return (
            Array(ranked.prefix(wanted)).sorted { $0.index < $1.index },
            Array(ranked.dropFirst(wanted)).sorted { $0.index < $1.index }
        )
    }
}
