import NIOCore

/// A timer for deadlines that move on every request. Moving the deadline is a store: the one
/// scheduled task, when it fires early, re-arms itself for the current deadline. So a keep-alive
/// connection schedules almost nothing per request, instead of a schedule and a cancel each time.
struct DeadlineTimer {
    private var deadline: NIODeadline?
    private var scheduled: Scheduled<Void>?
    private var scheduledFor: NIODeadline?

    var isSet: Bool { deadline != nil }

    /// Sets (or moves) the deadline; `fire` runs on the loop once it has passed.
    mutating func set(_ newDeadline: NIODeadline, on loop: any EventLoop, fire: @escaping () -> Void) {
        deadline = newDeadline
        if let scheduledFor, scheduledFor <= newDeadline, scheduled != nil { return }
        scheduled?.cancel()
        scheduledFor = newDeadline
        scheduled = loop.assumeIsolated().scheduleTask(deadline: newDeadline, fire)
    }

    mutating func clear() { deadline = nil }

    /// Called by the `fire` closure: true when the deadline has really passed (and clears it);
    /// false when it moved or was cleared, after re-arming for a later one.
    mutating func expired(now: NIODeadline = .now(), on loop: any EventLoop, fire: @escaping () -> Void) -> Bool {
        scheduled = nil
        scheduledFor = nil
        guard let deadline else { return false }
        if deadline <= now {
            self.deadline = nil
            return true
        }
        scheduledFor = deadline
        scheduled = loop.assumeIsolated().scheduleTask(deadline: deadline, fire)
        return false
    }

    mutating func cancel() {
        deadline = nil
        scheduled?.cancel()
        scheduled = nil
        scheduledFor = nil
    }
}
