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

/// Writes `contents` to `relativePath` in a tool's home as the tool would have: the file and the
/// folders made on its way belong to the home's owner (the platform uses only a tool's own files).
public func writeAsTool(_ contents: String, to relativePath: String, inHome home: String) throws {
    var info = stat()
    guard stat(home, &info) == 0 else { throw TestFailure("no home \(home)") }
    var folder = home
    for component in relativePath.split(separator: "/").dropLast() {
        folder += "/" + component
        if mkdir(folder, 0o755) == 0 { chown(folder, info.st_uid, info.st_gid) }
    }
    let path = home + "/" + relativePath
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
    chown(path, info.st_uid, info.st_gid)
}
