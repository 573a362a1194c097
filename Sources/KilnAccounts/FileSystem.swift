import Foundation
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// The few file operations the platform needs, with modes set explicitly (never left to umask)
/// and errors that name the path.
public enum FileSystem {
    public static func makeDirectory(_ path: String, mode: mode_t) throws(KilnError) {
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw error("cannot create directory", path)
        }
        if chmod(path, mode) != 0 { throw error("cannot set the mode of", path) }
    }

    public static func changeOwner(_ path: String, uid: uid_t, gid: gid_t) throws(KilnError) {
        if chown(path, uid, gid) != 0 { throw error("cannot change the owner of", path) }
    }

    /// Writes `contents` with mode 0600 through a temporary file and rename, so that a reader never
    /// sees half a secret and a crash leaves the old one or the new one.
    public static func writeSecret(_ contents: String, to path: String, owner: (uid_t, gid_t)? = nil) throws(KilnError) {
        let temporary = path + ".tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw error("cannot write", temporary) }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0 else {
            unlink(temporary)
            throw error("cannot write", temporary)
        }
        if let (uid, gid) = owner, chown(temporary, uid, gid) != 0 {
            unlink(temporary)
            throw error("cannot change the owner of", temporary)
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw error("cannot rename into", path)
        }
    }

    /// Reads a small text file, without its trailing newline.
    public static func readSecret(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func error(_ what: String, _ path: String) -> KilnError {
        KilnError(
            .hostAccount, "\(what) \(path): \(String(cString: strerror(errno)))",
            context: ["path": path])
    }
}
