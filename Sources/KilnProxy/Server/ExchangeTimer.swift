import NIOCore

/// The one timer of an exchange (RFC-free, the seed's layered timeouts): the outer deadline from
/// the request head, then the backend's time to first byte once the request went out, whichever
/// comes first.
struct ExchangeTimer {
    private var timer = DeadlineTimer()
    private var outer: NIODeadline?

    /// The request head arrived: the whole exchange must be answered by `deadline`.
    mutating func start(outer deadline: NIODeadline, on loop: any EventLoop, fire: @escaping () -> Void) {
        outer = deadline
        timer.set(deadline, on: loop, fire: fire)
    }

    /// The request went out: the backend's first byte is due by `firstByte` (or the outer deadline).
    mutating func awaitFirstByte(_ firstByte: NIODeadline, on loop: any EventLoop, fire: @escaping () -> Void) {
        timer.set(min(firstByte, outer ?? firstByte), on: loop, fire: fire)
    }

    /// Called by `fire`: true when the deadline really passed.
    mutating func expired(on loop: any EventLoop, fire: @escaping () -> Void) -> Bool {
        guard timer.expired(on: loop, fire: fire) else { return false }
        outer = nil
        return true
    }

    /// The response began or the exchange ended: nothing is due now.
    mutating func clear() {
        timer.clear()
        outer = nil
    }

    mutating func cancel() {
        timer.cancel()
        outer = nil
    }
}
