import Foundation

/// When a scheduled job runs, as a pure decision over the persisted last tick: once per tick,
/// never twice for one tick (the tick is claimed before its run starts, and the claim is stored,
/// so a restart of the platform does not run it again), a tick missed while the platform was down
/// runs once when it is back (however many were missed), and a tick that comes while the previous
/// run still goes is skipped rather than doubled.
public struct ScheduleTicks: Sendable, Hashable {
    public let schedule: CronSchedule
    public let timeZone: TimeZone
    /// The last tick a run was started (or skipped) for; nil before the first. Persisted.
    public private(set) var lastTick: Date?
    /// Ticks at or before this moment do not count (the job did not exist yet).
    public let since: Date

    public enum Decision: Sendable, Hashable {
        /// Start a run for `tick` (claimed: `lastTick` is now it). `missed` counts the earlier ticks
        /// folded into it (the platform was down).
        case run(tick: Date, missed: Int)
        /// The previous run still goes: `tick` is passed over (and claimed, so never run later).
        case skip(tick: Date)
        /// Nothing is due before `next`.
        case wait(until: Date)
        /// The schedule never fires again.
        case never
    }

    public init(schedule: CronSchedule, timeZone: TimeZone = TimeZone(identifier: "UTC")!, lastTick: Date? = nil, since: Date) {
        self.schedule = schedule
        self.timeZone = timeZone
        self.lastTick = lastTick
        self.since = since
    }

    /// Ticks count from the last one claimed, and never from before the declaration (a job changed
    /// since its last run does not catch up the ticks of its old schedule).
    var base: Date { max(lastTick ?? since, since) }

    /// What to do at `now`, given whether a run of the job is still going.
    public mutating func decide(now: Date, running: Bool) -> Decision {
        guard var due = schedule.next(after: base, in: timeZone) else { return .never }
        guard due <= now else { return .wait(until: due) }
        // Fold every tick missed up to now into the latest one: one catch-up, not a burst.
        var missed = 0
        while let following = schedule.next(after: due, in: timeZone), following <= now {
            due = following
            missed += 1
        }
        lastTick = due
        return running ? .skip(tick: due) : .run(tick: due, missed: missed)
    }
}

extension ScheduleTicks {
    /// The next tick that would run, without claiming anything.
    public func peekNext() -> Date? {
        schedule.next(after: base, in: timeZone)
    }
}
