import KilnCore
import KilnStore
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Decides who a caller is: the admin token, a tool's token, or on the Unix socket the caller's
/// Unix user as the kernel reports it.
public struct Authenticator: Sendable {
    let adminToken: String
    let store: KilnStore
    /// The user `kiln serve` runs as: on its own socket that user is the operator.
    let operatorUID: uid_t

    public init(adminToken: String, store: KilnStore, operatorUID: uid_t = geteuid()) {
        self.adminToken = adminToken
        self.store = store
        self.operatorUID = operatorUID
    }

    public func principal(bearer token: String) async throws(KilnError) -> Principal {
        if SecretComparison.equals(token, adminToken) { return .admin }
        if let tool = try await store.tool(forTokenHash: AccessToken.digest(token)) { return .tool(tool) }
        throw KilnError(.unauthenticated, "the token is not valid")
    }

    public func principal(unixUID uid: uid_t) async throws(KilnError) -> Principal {
        if uid == 0 || uid == operatorUID { return .admin }
        if let tool = try await store.tool(forUID: uid) { return .tool(tool) }
        throw KilnError(
            .unauthenticated, "Unix user \(uid) is neither the operator nor a tool's user", context: ["uid": "\(uid)"])
    }

    /// The kernel's word for the process at the other end of a Unix socket (SO_PEERCRED).
    public static func peerUID(of channel: any Channel) async throws -> uid_t? {
        guard case .unixDomainSocket = channel.localAddress,
            let provider = channel as? any SocketOptionProvider
        else { return nil }
        let credentials: PeerCredentials = try await provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)
        ).get()
        return credentials.uid
    }
}

/// `struct ucred` of Linux (pid, uid, gid), which Swift's Glibc module does not export without
/// _GNU_SOURCE; the layout is the kernel's ABI.
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
