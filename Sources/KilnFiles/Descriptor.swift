#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor that is closed exactly once: when the value ends, unless it was handed
/// on with `take()`.
public struct Descriptor: ~Copyable {
    public let rawValue: Int32

    init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// Hands the descriptor on; the caller closes it.
    public consuming func take() -> Int32 {
        let raw = rawValue
        discard self
        return raw
    }

    /// `fstat` of the open file.
    func status() -> stat? {
        var info = stat()
        return fstat(rawValue, &info) == 0 ? info : nil
    }

    deinit { close(rawValue) }
}
