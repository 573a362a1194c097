import NIOCore

/// A token bucket counted in thousandths of a request, refilled by the time passed since it was
/// last looked at: integer arithmetic, saturating, with time as the event loops' monotonic clock.
struct TokenBucket: Sendable, Hashable {
    static let scale: Int64 = 1000

    private(set) var milliTokens: Int64
    private var updated: NIODeadline

    init(full capacity: Int, at now: NIODeadline) {
        milliTokens = Int64(capacity) * Self.scale
        updated = now
    }

    /// Takes one request's token if there is one, after the refill `rate` per second gives.
    mutating func take(rate: Int, capacity: Int, now: NIODeadline) -> Bool {
        refill(rate: rate, capacity: capacity, now: now)
        guard milliTokens >= Self.scale else { return false }
        milliTokens -= Self.scale
        return true
    }

    /// Whether the bucket is full (forgetting it loses nothing).
    mutating func isFull(rate: Int, capacity: Int, now: NIODeadline) -> Bool {
        refill(rate: rate, capacity: capacity, now: now)
        return milliTokens >= Int64(capacity) * Self.scale
    }

    private mutating func refill(rate: Int, capacity: Int, now: NIODeadline) {
        guard now > updated else { return }
        let nanoseconds = (now - updated).nanoseconds
        // rate (≤ 10^7) × elapsed ns / 10^6 in thousandths: split so nothing overflows.
        let seconds = nanoseconds / 1_000_000_000
        let rest = nanoseconds % 1_000_000_000
        let capacityMilli = Int64(capacity) * Self.scale
        let added = seconds >= 3600 ? capacityMilli : seconds * Int64(rate) * Self.scale + rest * Int64(rate) / 1_000_000
        milliTokens = min(capacityMilli, milliTokens + min(added, capacityMilli))
        updated = now
    }
}
