/// What the kernel says about the listener at a loopback endpoint.
public enum ListenerOwnership: Sendable, Hashable {
    /// A listening socket of this uid takes connections there.
    case owned(uid: UInt32)
    /// Nothing listens there.
    case none
    /// The kernel could not be asked (the reason).
    case unknown(String)
}
