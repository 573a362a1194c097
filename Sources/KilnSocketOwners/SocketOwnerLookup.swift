import CKilnSystem
import KilnCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Answers "which uid owns the TCP listener at this loopback endpoint" and "which uid owns the
/// peer of this connection", from the kernel: one `sock_diag` netlink request per question (the
/// kernel's own hash lookup, as `ss` does), or a scan of /proc/net/tcp{,6} where netlink is
/// unavailable. Each answer costs a syscall pair and never blocks.
///
/// Keeps one netlink socket; use one lookup per event loop (the lock is then never contended).
public final class SocketOwnerLookup: Sendable {
    private struct State {
        /// The netlink socket; nil when the kernel refused one (then /proc answers).
        var descriptor: Int32?
        var sequence: UInt32 = 0
    }

    private let state: Mutex<State>

    /// `netlink: false` answers from /proc alone (the fallback, as on a kernel without sock_diag).
    public init(netlink: Bool = true) {
        let descriptor = netlink ? ckiln_sock_diag_open() : -1
        state = Mutex(State(descriptor: descriptor >= 0 ? descriptor : nil))
    }

    deinit {
        state.withLock { state in
            if let descriptor = state.descriptor { close(descriptor) }
        }
    }

    /// Who owns the listening socket that takes connections to `endpoint`.
    public func listenerOwner(of endpoint: LoopbackEndpoint) -> ListenerOwnership {
        listenerOwner(at: SocketEndpoint(endpoint))
    }

    /// Who owns the listening socket that takes connections to `endpoint`.
    public func listenerOwner(at endpoint: SocketEndpoint) -> ListenerOwnership {
        owner(local: endpoint, remote: SocketEndpoint(family: endpoint.family))
    }

    /// Who owns the other end of a connection from `local` to `remote` (a socket of this host):
    /// its listener's user until a process accepts it, the accepting process's user after.
    public func peerOwner(local: SocketEndpoint, remote: SocketEndpoint) -> ListenerOwnership {
        guard local.family == remote.family, local.port != 0, remote.port != 0 else {
            return .unknown("the connection's two ends are not of one address family")
        }
        // `.none`: the connection is gone already, or its peer is not of this host.
        return owner(local: remote, remote: local)
    }

    /// The socket at `local` whose peer is `remote` (port 0: the listener there).
    private func owner(local: SocketEndpoint, remote: SocketEndpoint) -> ListenerOwnership {
        var uid: UInt32 = 0
        var socketState: UInt8 = 0
        let status: Int32 = withUnsafeBytes(of: local.address) { localBytes in
            withUnsafeBytes(of: remote.address) { remoteBytes in
                let localAddress = localBytes.bindMemory(to: UInt8.self).baseAddress
                let remoteAddress = remoteBytes.bindMemory(to: UInt8.self).baseAddress
                let netlinkStatus: Int32? = state.withLock { state in
                    guard let descriptor = state.descriptor else { return nil }
                    state.sequence &+= 1
                    return ckiln_sock_diag_tcp_owner(
                        descriptor, local.familyConstant, localAddress, local.port, remoteAddress, remote.port, state.sequence,
                        &uid, &socketState)
                }
                if let netlinkStatus, netlinkStatus == 0 { return 0 }
                // No answer, or "no such socket", which a kernel without tcp_diag also says: /proc
                // has the last word.
                return ckiln_proc_tcp_owner(local.familyConstant, localAddress, local.port, remoteAddress, remote.port, &uid, &socketState)
            }
        }
        switch status {
        case 0:
            break
        case -ENOENT:
            return .none
        default:
            return .unknown(String(cString: strerror(-status)))
        }
        // A half-open or closing connection keeps no owner (the kernel reports uid 0): its
        // listener's owner is the answer.
        if remote.port != 0, socketState == CKILN_TCP_STATE_SYN_RECV || socketState == CKILN_TCP_STATE_TIME_WAIT {
            return owner(local: local, remote: SocketEndpoint(family: local.family))
        }
        return .owned(uid: uid)
    }
}
