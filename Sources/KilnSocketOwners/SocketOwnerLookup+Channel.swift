import KilnCore
import NIOCore

extension SocketOwnerLookup {
    /// Who owns the other end of a connected channel, when both its ends are known.
    public func peerOwner(of channel: any Channel) -> ListenerOwnership {
        guard let local = channel.localAddress.flatMap(SocketEndpoint.init),
            let remote = channel.remoteAddress.flatMap(SocketEndpoint.init)
        else { return .unknown("the connection's addresses are unknown") }
        return peerOwner(local: local, remote: remote)
    }

    /// Whether a new connection to a tool's backend may carry its traffic: the listener it
    /// reached on the loopback interface must be `expected`'s; a peer elsewhere (only the admin
    /// routes there) is not the kernel's to tell. The listener, not the accepted socket, is
    /// asked: the accepted socket changes owner when a process accepts it (a root server's
    /// workers that dropped to another user), so it would answer differently from one moment to
    /// the next; the listener is who bound the port.
    public func admits(_ channel: any Channel, expected: BackendOwner) -> Bool {
        switch expected {
        case .anyone:
            return true
        case .uid:
            guard let remote = channel.remoteAddress.flatMap(SocketEndpoint.init), remote.isLoopback else { return true }
            switch listenerOwner(at: remote) {
            case .owned(let uid): return expected.admits(uid)
            case .none, .unknown: return false
            }
        }
    }
}
