import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// Whose files the platform expects in a directory and gives the files it creates there.
public struct FileOwner: Sendable, Hashable {
    public var uid: uid_t
    public var gid: gid_t

    public init(uid: uid_t, gid: gid_t) {
        self.uid = uid
        self.gid = gid
    }

    /// A tool's owner: its Unix user, or (in single-user mode, where tools run as the server's
    /// user) the server's own ids.
    public init(_ user: UnixIdentity?) {
        if let user {
            self.init(uid: user.uid, gid: user.gid)
        } else {
            self = .process
        }
    }

    /// The server's own ids.
    public static var process: FileOwner { FileOwner(uid: geteuid(), gid: getegid()) }
}
