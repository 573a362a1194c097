import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// Folders of the platform's own (the data directory, the runtime folder and what is in them),
/// made so that one found in their place (a link, another user's folder in a world-writable
/// parent such as /dev/shm) is refused rather than used.
public enum PrivateDirectory {
    /// Creates `path` when missing; then it must be a real folder (not a link) of `owner`, and
    /// gets `mode`. With `claiming`, a folder found there is given to `owner` (the platform decides
    /// whose it is: a tool's home at provisioning) rather than refused.
    public static func ensure(_ path: String, mode: mode_t, owner: FileOwner, claiming: Bool = false) throws(KilnError) {
        let created = mkdir(path, mode) == 0
        guard created || errno == EEXIST else { throw failure("cannot create", path) }
        let opened = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard opened >= 0 else { throw failure("cannot open", path) }
        let folder = Descriptor(opened)
        let givesAway = created ? owner != .process : claiming
        if givesAway, fchown(folder.rawValue, owner.uid, owner.gid) != 0 {
            throw failure("cannot change the owner of", path)
        }
        guard let info = folder.status() else { throw failure("cannot inspect", path) }
        guard info.st_uid == owner.uid else {
            throw KilnError(
                .storage, "\(path) belongs to uid \(info.st_uid), not to uid \(owner.uid): refusing to use it",
                context: ["path": path])
        }
        guard (info.st_mode & 0o7777) == mode || fchmod(folder.rawValue, mode) == 0 else {
            throw failure("cannot set the mode of", path)
        }
    }

    /// Sets the mode of the platform's own file or folder at `path`, which must not be a link.
    public static func restrict(_ path: String, mode: mode_t) throws(KilnError) {
        let opened = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard opened >= 0 else {
            if errno == ENOENT { return }
            throw failure("cannot open", path)
        }
        let file = Descriptor(opened)
        guard fchmod(file.rawValue, mode) == 0 else { throw failure("cannot set the mode of", path) }
    }

    /// Writes a secret of the platform's (mode 0600) through a new file and a rename, so that a
    /// reader never sees half of it and a crash leaves the old one or the new one.
    public static func writeSecret(_ contents: String, to path: String) throws(KilnError) {
        try writePrivateFile(Array(contents.utf8), to: path)
    }

    /// Writes a file of the platform's own (mode 0600) through a new file and a rename, so that a
    /// reader never sees half of it and a crash leaves the old one or the new one.
    public static func writePrivateFile(_ bytes: [UInt8], to path: String) throws(KilnError) {
        let temporary = path + ".tmp.\(getpid())"
        unlink(temporary)
        let opened = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard opened >= 0 else { throw failure("cannot write", temporary) }
        do throws(KilnError) {
            let file = Descriptor(opened)
            var done = 0
            while done < bytes.count {
                let written = bytes.withUnsafeBytes { write(file.rawValue, $0.baseAddress.map { $0 + done }, $0.count - done) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { throw failure("cannot write", temporary) }
                done += written
            }
            guard fsync(file.rawValue) == 0 else { throw failure("cannot write", temporary) }
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot rename into", path)
            unlink(temporary)
            throw error
        }
    }

    /// A whole file of the platform's own, as `writePrivateFile` wrote it; nil when there is none.
    /// What another could have put there is refused: a link, a FIFO or a device, a file of
    /// another uid, one the group or others may write, or one past `maximumBytes`.
    public static func readPrivateFile(_ path: String, maximumBytes: Int) throws(KilnError) -> [UInt8]? {
        let opened = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard opened >= 0 else {
            if errno == ENOENT { return nil }
            throw failure("cannot open", path)
        }
        let file = Descriptor(opened)
        guard let info = file.status() else { throw failure("cannot inspect", path) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw KilnError(.storage, "\(path) is not a regular file: refusing to read it", context: ["path": path])
        }
        guard info.st_uid == geteuid() else {
            throw KilnError(.storage, "\(path) belongs to uid \(info.st_uid), not to uid \(geteuid()): refusing to read it", context: ["path": path])
        }
        guard info.st_mode & 0o022 == 0 else {
            throw KilnError(.storage, "\(path) may be written by others: refusing to read it", context: ["path": path])
        }
        guard info.st_size <= maximumBytes else {
            throw KilnError(.storage, "\(path) is larger than \(maximumBytes) bytes: refusing to read it", context: ["path": path])
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(file.rawValue, $0.baseAddress.map { $0 + done }, $0.count - done) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw failure("cannot read", path) }
            // Shorter than it said: it changed under the reader; what was read is refused by its parser.
            if count == 0 { break }
            done += count
        }
        bytes.removeLast(bytes.count - done)
        return bytes
    }

    /// Reads a small secret of the platform's (at most 4 KiB), without its trailing newline; nil
    /// when there is none (or a link is found in its place).
    public static func readSecret(_ path: String) -> String? {
        guard var bytes = readSmallFile(path, maximumBytes: 4096) else { return nil }
        while let last = bytes.last, [0x0A, 0x0D, 0x20, 0x09].contains(last) { bytes.removeLast() }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    /// The first bytes (at most `maximumBytes`) of a small regular file, read without following a
    /// link or blocking on a FIFO; nil when there is no such file or it is empty.
    static func readSmallFile(_ path: String, maximumBytes: Int) -> [UInt8]? {
        let opened = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard opened >= 0 else { return nil }
        let file = Descriptor(opened)
        guard let info = file.status(), (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        var bytes = [UInt8](repeating: 0, count: maximumBytes)
        let count = bytes.withUnsafeMutableBytes { read(file.rawValue, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    /// The names in a folder of the platform's (none when it cannot be read).
    static func entries(of path: String) -> [String] {
        guard let stream = opendir(path) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func failure(_ what: String, _ path: String) -> KilnError {
        let code = errno
        return KilnError(.storage, "\(what) \(path): \(String(cString: strerror(code)))", context: ["path": path, "errno": String(code)])
    }
}
