import NIOCore

/// A read a handler holds back while its peer cannot take more (backpressure), passed on once
/// reading may resume. It only decides: the caller calls `context.read()`, outside any access to
/// this value, since a read can re-enter the handler at once (an HTTP/2 stream delivers in it).
struct HeldRead {
    private(set) var isHeld = false

    /// Whether to pass the read on now (when `allowed`); otherwise it is held.
    mutating func passes(allowed: Bool) -> Bool {
        if !allowed { isHeld = true }
        return allowed
    }

    /// Whether a held read is to be passed on now: there is one and reading is `allowed`.
    mutating func released(allowed: Bool = true) -> Bool {
        guard isHeld, allowed else { return false }
        isHeld = false
        return true
    }
}
