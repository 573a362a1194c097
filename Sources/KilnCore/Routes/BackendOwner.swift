/// Who must own the listener behind a tool's loopback backend, as the proxy, the health probe and
/// the port relay check on each new connection (pooled connections are not checked again).
public enum BackendOwner: Sendable, Hashable {
    /// Nothing is checked: the admin's routes (the landing site), and in a proxy fed from Redis a
    /// key that is no tool with a Unix account (routes that other tooling wrote).
    case anyone
    /// The listener must belong to this uid: the tool's own user, or in single-user mode the
    /// server's (tools run as the server's user then, so that is all the kernel can tell).
    case uid(UInt32)

    /// Whether a listener owned by `owner` (nil: nothing found there) may take the tool's traffic.
    public func admits(_ owner: UInt32?) -> Bool {
        switch self {
        case .anyone: true
        case .uid(let expected): owner == expected
        }
    }

    /// The owner of the listeners of a tool whose processes run as `user`, or as the server's
    /// user (`serverUID`) when the tool has none.
    public static func processes(of user: UnixIdentity?, serverUID: UInt32) -> BackendOwner {
        .uid(user?.uid ?? serverUID)
    }
}
