import Foundation
import KilnAPI
import KilnCore
import KilnFiles

#if canImport(Glibc)
import Glibc
#endif

/// The data directory of one `kiln serve`: store, socket, admin token, tools' homes. It is locked
/// while a server uses it, so two servers never share one store.
struct DataDirectory {
    let path: String
    private let lockDescriptor: Int32

    /// Creates the directory when missing and takes its lock. Mode 0711: tools' users pass through
    /// it to their homes (`tools/`) and to the API's socket, and can list or read nothing else;
    /// what the platform keeps in it is 0600 or 0700.
    init(path rawPath: String) throws(KilnError) {
        path = URL(fileURLWithPath: rawPath).standardizedFileURL.path
        if !FileManager.default.fileExists(atPath: path) {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw KilnError(.storage, "cannot create the data directory \(path): \(error)", context: ["path": path])
            }
        }
        try PrivateDirectory.ensure(path, mode: Self.mode, owner: .process)
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
        // Who holds it, for `kiln proxy reload` (`ServerProcess`).
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(lockDescriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(lockDescriptor, $0.baseAddress, $0.count, 0) }
    }

    static let mode: mode_t = 0o711

    var storePath: String { path + "/" + ServeDefaults.storeName }
    var toolsPath: String { path + "/tools" }
    var logsPath: String { path + "/logs" }
    /// Tools' images (`ImageStore`) and their builds' logs and caches.
    var imagesPath: String { path + "/images" }
    var buildsPath: String { path + "/builds" }
    /// Where the runtime folder goes when /dev/shm cannot be had.
    var runtimeFallbackPath: String { path + "/run" }

    /// The store's files (the database, its WAL and shared memory) are the platform's alone. The
    /// database is made 0600 before SQLite opens it, since SQLite gives its WAL and shared-memory
    /// files the database file's mode; an existing store (made 0644 by an earlier version) is
    /// restricted too.
    func restrictStore() throws(KilnError) {
        let opened = open(storePath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard opened >= 0 else {
            throw KilnError(.storage, "cannot open \(storePath): \(String(cString: strerror(errno)))", context: ["path": storePath])
        }
        close(opened)
        for suffix in ["", "-wal", "-shm", "-journal"] { try PrivateDirectory.restrict(storePath + suffix, mode: 0o600) }
        try PrivateDirectory.restrict(adminTokenPath, mode: 0o600)
    }

    /// Tools' users must reach their homes: every folder above `tools/` must let others pass
    /// (o+x). A data directory under a 0700 folder (a home such as /root) would give tools whose
    /// servers fail with "can't chdir"; refused at start with what to change.
    func checkHomesReachable() throws(KilnError) {
        var folder = ""
        for component in toolsPath.split(separator: "/") {
            folder += "/" + component
            var info = stat()
            guard stat(folder, &info) == 0 else { continue }
            guard info.st_mode & S_IXOTH != 0 else {
                throw KilnError(
                    .storage,
                    "tools' users cannot reach their homes under \(toolsPath): \(folder) is mode \(String(info.st_mode & 0o7777, radix: 8)) "
                        + "and does not let others pass; run `chmod o+x \(folder)` or choose a --data under folders others may pass through",
                    context: ["path": folder])
            }
        }
    }
    var socketPath: String { path + "/" + ServeDefaults.socketName }
    /// Where the platform's proxy process says it is ready (see `ProxyReadyFile`).
    var proxyReadyFile: ProxyReadyFile { ProxyReadyFile(path: path + "/" + ServeDefaults.proxyReadyName) }
    var adminTokenPath: String { path + "/" + ServeDefaults.adminTokenName }

    /// The admin token: written once (mode 0600) and kept for every later start.
    func adminToken() throws(KilnError) -> String { try secret(at: adminTokenPath) }

    var metricsTokenPath: String { path + "/" + ServeDefaults.metricsTokenName }
    /// The token scrapes of the proxy's metrics bring.
    func metricsToken() throws(KilnError) -> String { try secret(at: metricsTokenPath) }

    var envvarsKeyPath: String { path + "/" + ServeDefaults.envvarsKeyName }
    /// The key that seals the tools' envvars in the store: a file apart from it, so that a copy
    /// of the store alone reveals no value.
    func envvarsKey() throws(KilnError) -> [UInt8] {
        if let existing = PrivateDirectory.readSecret(envvarsKeyPath) {
            guard let key = Self.bytes(hex: existing), key.count == EnvvarVault.keyBytes else {
                throw KilnError(.storage, "\(envvarsKeyPath) is not a key of \(EnvvarVault.keyBytes) bytes in hex")
            }
            return key
        }
        let key = EnvvarVault.generateKey()
        try PrivateDirectory.writeSecret(key.map { String(format: "%02x", $0) }.joined() + "\n", to: envvarsKeyPath)
        return key
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
            index += 2
        }
        return bytes
    }

    /// The token kept at `path`, made the first time.
    private func secret(at path: String) throws(KilnError) -> String {
        if let existing = PrivateDirectory.readSecret(path), !existing.isEmpty { return existing }
        let token = AccessToken.generate()
        try PrivateDirectory.writeSecret(token + "\n", to: path)
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
