import Foundation
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// The Unix user tests run tools' processes as. The platform never runs a tool's code as root, so
/// tests run as root give their tools `nobody`; tests run as another user are in single-user mode
/// (no user: the tools run as that user).
public enum TestToolUser {
    public static let identity: UnixIdentity? = {
        guard geteuid() == 0, let entry = getpwnam("nobody") else { return nil }
        return UnixIdentity(name: "nobody", uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }()

    /// A new home for a test's tool: `nobody`'s (when root), mode 0750, under a folder others can
    /// pass through.
    public static func makeHome(prefix: String = "kh") throws -> String {
        let home = try makeTemporaryDirectory(prefix: prefix) + "/home"
        guard mkdir(home, 0o750) == 0 else { throw TestFailure("cannot create \(home)") }
        if let identity { chown(home, identity.uid, identity.gid) }
        return home
    }

    /// Gives a file a test wrote into a tool's home to the tool (as the tool would have made it).
    public static func give(_ path: String) {
        if let identity { chown(path, identity.uid, identity.gid) }
    }
}
