import Foundation
import KilnAPI
import KilnAccounts
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// The data directory of one `kiln serve`: store, socket, admin token, tools' homes. It is locked
/// while a server uses it, so two servers never share one store.
struct DataDirectory {
    let path: String
    private let lockDescriptor: Int32

    /// Creates the directory when missing (mode 0755: tools' users must reach their homes) and
    /// takes its lock.
    init(path rawPath: String) throws(KilnError) {
        path = URL(fileURLWithPath: rawPath).standardizedFileURL.path
        if !FileManager.default.fileExists(atPath: path) {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw KilnError(.storage, "cannot create the data directory \(path): \(error)", context: ["path": path])
            }
        }
        try FileSystem.makeDirectory(path, mode: 0o755)
        let lockPath = path + "/" + ServeDefaults.lockName
        lockDescriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockDescriptor >= 0 else {
            throw KilnError(.storage, "cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(lockDescriptor)
            throw KilnError(
                .conflict, "another `kiln serve` is using the data directory \(path)", context: ["path": path])
        }
    }

    var storePath: String { path + "/" + ServeDefaults.storeName }
    var socketPath: String { path + "/" + ServeDefaults.socketName }
    var adminTokenPath: String { path + "/" + ServeDefaults.adminTokenName }

    /// The admin token: written once (mode 0600) and kept for every later start.
    func adminToken() throws(KilnError) -> String {
        if let existing = FileSystem.readSecret(adminTokenPath), !existing.isEmpty { return existing }
        let token = AccessToken.generate()
        try FileSystem.writeSecret(token + "\n", to: adminTokenPath)
        return token
    }

    /// Removes a socket file left by a server that died (the lock says none runs now).
    func removeStaleSocket() throws(KilnError) {
        if unlink(socketPath) != 0 && errno != ENOENT {
            throw KilnError(.storage, "cannot remove the stale socket \(socketPath): \(String(cString: strerror(errno)))")
        }
        if socketPath.utf8.count >= 108 {
            throw KilnError(
                .invalidAddress,
                "the socket path \(socketPath) is longer than Unix sockets allow (107 bytes): use a shorter --data")
        }
    }
}
