import NIOCore

/// The one timer of an exchange (RFC-free, the seed's layered timeouts): the outer deadline from
/// the request head, then the backend's time to first byte once the request went out, whichever
/// comes first; once the response streams, the longest the backend may send nothing (nginx's
/// `proxy_read_timeout` between two reads).
struct ExchangeTimer {
    private var timer = DeadlineTimer()
    private var outer: NIODeadline?
    /// Set while the response body streams.
    private var stall: TimeAmount?

    /// The request head arrived: the whole exchange must be answered by `deadline`.
    mutating func start(outer deadline: NIODeadline, on loop: any EventLoop, fire: @escaping () -> Void) {
        outer = deadline
        timer.set(deadline, on: loop, fire: fire)
    }

    /// The request went out: the backend's first byte is due by `firstByte` (or the outer deadline).
    mutating func awaitFirstByte(_ firstByte: NIODeadline, on loop: any EventLoop, fire: @escaping () -> Void) {
        timer.set(min(firstByte, outer ?? firstByte), on: loop, fire: fire)
    }

    /// The response head went to the client: the backend's next byte is due within `stall`.
    mutating func awaitBody(within stall: TimeAmount, on loop: any EventLoop, fire: @escaping () -> Void) {
        outer = nil
        self.stall = stall
        timer.set(.now() + stall, on: loop, fire: fire)
    }

    /// Bytes came from the backend, or the client can take them again: the stall restarts.
    /// (Moving the deadline later is a store, not a new schedule.)
    mutating func backendProgressed(on loop: any EventLoop, fire: @escaping () -> Void) {
        guard let stall else { return }
        timer.set(.now() + stall, on: loop, fire: fire)
    }

    /// The client cannot take more, so the backend's reads are held: its silence is not its own.
    mutating func clientHoldsBackend() {
        guard stall != nil else { return }
        timer.clear()
    }

    /// Called by `fire`: true when the deadline really passed.
    mutating func expired(on loop: any EventLoop, fire: @escaping () -> Void) -> Bool {
        guard timer.expired(on: loop, fire: fire) else { return false }
        outer = nil
        stall = nil
        return true
    }

    /// The response began or the exchange ended: nothing is due now.
    mutating func clear() {
        timer.clear()
        outer = nil
        stall = nil
    }

    mutating func cancel() {
        timer.cancel()
        outer = nil
        stall = nil
    }
}
