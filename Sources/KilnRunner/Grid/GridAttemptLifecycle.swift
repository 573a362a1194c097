import KilnCore

/// The platform's knowledge of one grid attempt while it waits for its end: pure, driven by what
/// the backend observes (the exit file, the grid's listing, its accounting), on instants it is
/// given, and saying what to do next. The backend's wait loop only carries out its actions.
///
/// The exit file is the first word: the wrapper writes it as the command ends, so it says how
/// even when the grid's accounting is off or the platform restarted meanwhile. A job the grid
/// no longer lists without one was killed (a limit, a cancel, a failed host) or never ran: then
/// the grid's accounting says how, or, once it has had its patience, the grid's last state.
struct GridAttemptLifecycle: Sendable {
    enum State: Sendable, Hashable {
        /// Submitted (or adopted); not yet seen in a listing.
        case submitted
        /// Listed by the grid and not finished.
        case listed(GridJobEntry)
        /// Listed, on a host the grid no longer hears from, since `since`.
        case hostLost(GridJobEntry, since: ContinuousClock.Instant)
        /// Stuck in an error state; being removed from the grid.
        case removing(reason: String?)
        /// No longer listed (or listed as finished) and no exit file: its accounting (or a late
        /// exit file) is awaited until `until`.
        case vanished(last: GridJobState?, until: ContinuousClock.Instant)
        case ended(ExitStatus)
    }

    enum Observation: Sendable, Hashable {
        case exitFile(ExitStatus)
        /// The grid's listing has the job (or, nil, does not).
        case listing(GridJobEntry?)
        /// The listing has the job, on a host the grid no longer hears from.
        case listingOnLostHost(GridJobEntry?)
        /// The job of a lost host was removed from the grid.
        case lostWithHost(String)
        /// The grid could not be asked.
        case unreachable
        /// The grid's accounting says how it ended; nil: it does not know (yet, or it is off).
        case accounting(ExitStatus?)
        /// A job stuck in an error state was removed; the grid's reason, when it said.
        case removed(reason: String?)
    }

    enum Action: Sendable, Hashable {
        /// Look again (exit file, listing) after this long.
        case look(after: Duration)
        case askAccounting
        /// Remove the job stuck in an error state (`qdel`), then report `.removed`.
        case removeBroken
        /// Remove the job of a host lost for longer than the grid's own patience, then report
        /// `.lostWithHost`.
        case removeLost(host: String)
        case finish(ExitStatus)
    }

    /// The attempt's memory limit, for an end the grid calls out-of-memory.
    let memory: MemorySize
    let pollInterval: Duration
    let unreachablePollInterval: Duration
    let accountingPatience: Duration
    /// How long a job may be listed on a lost host before the platform removes it itself.
    let lostHostPatience: Duration
    private(set) var state: State = .submitted
    /// Looks in a row that found the grid unreachable: the poll doubles with each.
    private(set) var unreachableLooks = 0

    init(memory: MemorySize, configuration: GridConfiguration) {
        self.memory = memory
        pollInterval = configuration.pollInterval
        unreachablePollInterval = configuration.unreachablePollInterval
        lostHostPatience = configuration.lostHostPatience
        accountingPatience = configuration.accountingPatience
    }

    var isEnded: Bool {
        if case .ended = state { return true }
        return false
    }

    mutating func observe(_ observation: Observation, now: ContinuousClock.Instant) -> Action {
        if case .ended(let status) = state { return .finish(status) }
        switch observation {
        case .exitFile(let status):
            return end(status)
        case .unreachable:
            unreachableLooks += 1
            return .look(after: backoff())
        case .listing(let entry):
            unreachableLooks = 0
            return listed(entry, now: now)
        case .listingOnLostHost(let entry):
            unreachableLooks = 0
            let before = state
            let action = listed(entry, now: now)
            guard case .listed(let seen) = state, let host = seen.host else { return action }
            // Still running there as far as the grid says: past the patience, it is removed.
            let since: ContinuousClock.Instant
            if case .hostLost(_, let known) = before { since = known } else { since = now }
            state = .hostLost(seen, since: since)
            return now - since >= lostHostPatience ? .removeLost(host: host) : action
        case .lostWithHost(let host):
            return end(.unhealthy(reason: "its execution host \(host) stopped answering; its grid job was removed"))
        case .accounting(let status):
            if let status { return end(status) }
            guard case .vanished(let last, let until) = state else { return .look(after: pollInterval) }
            if now >= until { return end(last?.impliedStatus(memory: memory) ?? .unknown) }
            return .look(after: pollInterval)
        case .removed(let reason):
            let given: String? = if case .removing(let known) = state { known } else { nil }
            return end(.couldNotStart(reason: reason ?? given ?? "the grid could not start it"))
        }
    }

    private mutating func listed(_ entry: GridJobEntry?, now: ContinuousClock.Instant) -> Action {
        switch state {
        case .ended(let status):
            return .finish(status)
        case .removing:
            return .removeBroken
        case .vanished(let last, let until):
            // Listed alive again (requeued by the grid): waiting for it again.
            if let entry, !entry.state.isFinished { break }
            state = .vanished(last: entry?.state ?? last, until: until)
            return .askAccounting
        case .submitted, .listed, .hostLost:
            break
        }
        guard let entry else {
            let last: GridJobState? =
                switch state {
                case .listed(let seen), .hostLost(let seen, _): seen.state
                case .submitted, .removing, .vanished, .ended: nil
                }
            state = .vanished(last: last, until: now + accountingPatience)
            return .askAccounting
        }
        switch entry.state {
        case .error(let reason):
            state = .removing(reason: reason)
            return .removeBroken
        case .completed, .failed, .cancelled, .timedOut, .outOfMemory, .nodeFailed:
            state = .vanished(last: entry.state, until: now + accountingPatience)
            return .askAccounting
        case .pending, .held, .running, .suspended, .ending, .other:
            state = .listed(entry)
            return .look(after: pollInterval)
        }
    }

    private mutating func end(_ status: ExitStatus) -> Action {
        state = .ended(status)
        return .finish(status)
    }

    /// The poll interval doubled for each unreachable look in a row, up to the longest.
    private func backoff() -> Duration {
        var interval = pollInterval
        for _ in 0..<min(unreachableLooks, 16) where interval < unreachablePollInterval { interval *= 2 }
        return min(interval, unreachablePollInterval)
    }
}
