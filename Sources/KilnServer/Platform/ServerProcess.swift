import Foundation
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// The `kiln serve` of a data directory, found through its lock file: the server holds the lock
/// while it runs and wrote its pid into the file.
public enum ServerProcess {
    /// The pid of the server running on `dataDirectory`.
    public static func running(in dataDirectory: String) throws(KilnError) -> Int32 {
        let path = dataDirectory + "/" + ServeDefaults.lockName
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else {
            throw KilnError(.notFound, "no kiln serve has run on \(dataDirectory) (no \(ServeDefaults.lockName))", context: ["path": path])
        }
        defer { close(descriptor) }
        // A lock this process can take is held by nobody: no server runs there.
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            throw KilnError(.notFound, "no kiln serve runs on \(dataDirectory)", context: ["path": path])
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0, let pid = Int32(String(decoding: bytes.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
            pid > 1
        else {
            throw KilnError(.notFound, "the kiln serve on \(dataDirectory) did not say its pid (an older version?)", context: ["path": path])
        }
        return pid
    }
}
