import Crypto
import Foundation
import KilnCore
import KilnFiles

#if canImport(Glibc)
import Glibc
#endif

/// An image's folder on disk, walked by descriptor: sealed once its build has ended (made the
/// platform's and read-only, its digest computed), or removed.
///
/// The build ran as the tool and wrote the tree, and any other process of the tool's may still
/// hold a descriptor into it; the server runs as root. So the walk never uses a path below the
/// top: each folder is opened `O_NOFOLLOW` relative to its parent, made the platform's and
/// unwritable *before* it is listed (nothing can be added, renamed or swapped in it after), and
/// every regular file is copied to a new file of the platform's that replaces it (a descriptor
/// the tool kept open for writing writes to the old file, which the image no longer holds; a
/// hard link to a file elsewhere is not given away). An entry that is not the tool's fails the
/// seal; links are kept as links (the tool's processes follow them with the tool's rights);
/// FIFOs, sockets and devices are dropped.
public struct ImageTree: Sendable {
    public let path: String
    /// The tool whose build made the tree: every entry must be its own.
    public let builder: FileOwner
    /// Who owns the sealed tree (the platform) and the group that may read it (the tool's).
    public let sealedOwner: FileOwner

    public init(path: String, builder: FileOwner, sealedOwner: FileOwner) {
        self.path = path
        self.builder = builder
        self.sealedOwner = sealedOwner
    }

    public struct Sealed: Sendable, Hashable {
        public var digest: String
        public var sizeBytes: Int64
        public var files: Int
    }

    static let maximumDepth = 64
    static let folderMode: mode_t = 0o550
    static let fileMode: mode_t = 0o440
    static let programMode: mode_t = 0o550

    /// Seals the tree; past `maximumBytes` of file content it stops and throws (the caller removes it).
    /// `dropping` names entries removed first, by their components (`["app", ".git"]`: history
    /// is not the image); each folder on the way is opened without following a link.
    public func seal(maximumBytes: Int64, dropping: [[String]] = []) throws(KilnError) -> Sealed {
        let top = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard top >= 0 else { throw failure("cannot open", "") }
        var state = SealState(maximumBytes: maximumBytes)
        do throws(KilnError) {
            try drop(dropping, in: top)
        } catch {
            close(top)
            throw error
        }
        try sealFolder(top, at: "", depth: Self.maximumDepth, state: &state)
        return Sealed(digest: "sha256:" + state.hasher.finalize().map { String(format: "%02x", $0) }.joined(), sizeBytes: state.bytes, files: state.files)
    }

    private func drop(_ dropping: [[String]], in top: Int32) throws(KilnError) {
        for components in dropping {
            guard let last = components.last else { continue }
            var folder = dup(top)
            for component in components.dropLast() where folder >= 0 {
                let next = openat(folder, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                close(folder)
                folder = next
            }
            guard folder >= 0 else { continue }
            defer { close(folder) }
            try removeEntry(named: last, in: folder, at: components.joined(separator: "/"), depth: Self.maximumDepth)
        }
    }

    struct SealState {
        var hasher = SHA256()
        var bytes: Int64 = 0
        var files = 0
        let maximumBytes: Int64

        init(maximumBytes: Int64) { self.maximumBytes = maximumBytes }

        mutating func record(_ line: String) { hasher.update(data: Array(line.utf8)) }
    }

    /// Seals the folder open at `folder` (closed by this call).
    private func sealFolder(_ folder: Int32, at here: String, depth: Int, state: inout SealState) throws(KilnError) {
        defer { close(folder) }
        var info = stat()
        guard fstat(folder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { throw failure("cannot examine", here) }
        guard info.st_uid == builder.uid else { throw notTheTools(here, info) }
        // Locked first: from here the tool cannot add, remove or swap an entry in this folder.
        guard fchown(folder, sealedOwner.uid, sealedOwner.gid) == 0 || geteuid() != 0, fchmod(folder, 0o750) == 0 else {
            throw failure("cannot take", here)
        }
        state.record("d \(here)\n")
        var entries = try names(in: folder, at: here)
        entries.sort()
        for name in entries {
            let entryPath = here.isEmpty ? name : here + "/" + name
            var entry = stat()
            guard fstatat(folder, name, &entry, AT_SYMLINK_NOFOLLOW) == 0 else { throw failure("cannot examine", entryPath) }
            guard entry.st_uid == builder.uid else { throw notTheTools(entryPath, entry) }
            switch entry.st_mode & S_IFMT {
            case S_IFDIR:
                guard depth > 0 else { throw failure("is nested too deep (over \(Self.maximumDepth) folders)", entryPath, errno: 0) }
                let opened = openat(folder, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard opened >= 0 else { throw failure("cannot open", entryPath) }
                try sealFolder(opened, at: entryPath, depth: depth - 1, state: &state)
            case S_IFREG:
                try sealFile(named: name, in: folder, at: entryPath, state: &state)
            case S_IFLNK:
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let count = readlinkat(folder, name, &buffer, buffer.count - 1)
                guard count >= 0 else { throw failure("cannot read the link", entryPath) }
                let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                _ = fchownat(folder, name, sealedOwner.uid, sealedOwner.gid, AT_SYMLINK_NOFOLLOW)
                state.record("l \(entryPath) \(target)\n")
            default:
                // A FIFO, a socket or a device: nothing an image runs from.
                unlinkat(folder, name, 0)
            }
        }
        guard fchmod(folder, Self.folderMode) == 0 else { throw failure("cannot make read-only", here) }
    }

    /// Replaces the file `name` with a copy of the platform's, read-only, and hashes it.
    private func sealFile(named name: String, in folder: Int32, at here: String, state: inout SealState) throws(KilnError) {
        let source = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard source >= 0 else { throw failure("cannot open", here) }
        defer { close(source) }
        var info = stat()
        guard fstat(source, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw failure("is no longer a regular file", here, errno: 0) }
        guard info.st_uid == builder.uid else { throw notTheTools(here, info) }
        let mode = info.st_mode & 0o111 != 0 ? Self.programMode : Self.fileMode
        let temporary = ".kiln-seal-\(UInt32.random(in: .min ... .max))"
        let copy = openat(folder, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard copy >= 0 else { throw failure("cannot create a copy of", here) }
        var fileHasher = SHA256()
        var copied: Int64 = 0
        do throws(KilnError) {
            defer { close(copy) }
            var buffer = [UInt8](repeating: 0, count: 128 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                if count == 0 { break }
                guard count > 0 else {
                    if errno == EINTR { continue }
                    throw failure("cannot read", here)
                }
                copied += Int64(count)
                guard state.bytes + copied <= state.maximumBytes else {
                    throw KilnError(
                        .quotaExceeded, "the image is larger than its quota (\(MemorySize(bytes: state.maximumBytes)))",
                        context: ["path": here])
                }
                fileHasher.update(data: buffer[0..<count])
                var offset = 0
                while offset < count {
                    let written = buffer[offset..<count].withUnsafeBytes { write(copy, $0.baseAddress, $0.count) }
                    guard written > 0 else {
                        if written < 0 && errno == EINTR { continue }
                        throw failure("cannot write a copy of", here)
                    }
                    offset += written
                }
            }
            guard fchown(copy, sealedOwner.uid, sealedOwner.gid) == 0 || geteuid() != 0, fchmod(copy, mode) == 0 else {
                throw failure("cannot seal the copy of", here)
            }
            guard renameat(folder, temporary, folder, name) == 0 else { throw failure("cannot replace", here) }
        } catch {
            unlinkat(folder, temporary, 0)
            throw error
        }
        state.bytes += copied
        state.files += 1
        let hash = fileHasher.finalize().map { String(format: "%02x", $0) }.joined()
        state.record("f \(here) \(String(mode, radix: 8)) \(hash)\n")
    }

    // MARK: Removal

    /// Removes the whole tree (a failed build's, an image past its quota, `build clean`).
    public func remove() throws(KilnError) {
        let parentPath = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let parent = open(parentPath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard parent >= 0 else {
            if errno == ENOENT { return }
            throw failure("cannot open", "..")
        }
        defer { close(parent) }
        try removeEntry(named: name, in: parent, at: "", depth: Self.maximumDepth)
    }

    /// Removes `name` in `folder`: a folder is locked (the platform's, 0700) before it is emptied,
    /// so nothing the tool still runs can refill it.
    private func removeEntry(named name: String, in folder: Int32, at here: String, depth: Int) throws(KilnError) {
        var info = stat()
        guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return }
            throw failure("cannot examine", here)
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            guard unlinkat(folder, name, 0) == 0 || errno == ENOENT else { throw failure("cannot remove", here) }
            return
        }
        guard depth > 0 else { throw failure("is nested too deep to remove", here, errno: 0) }
        let opened = openat(folder, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard opened >= 0 else { throw failure("cannot open", here) }
        do {
            defer { close(opened) }
            _ = fchown(opened, sealedOwner.uid, sealedOwner.gid)
            guard fchmod(opened, 0o700) == 0 else { throw failure("cannot take", here) }
            for entry in try names(in: opened, at: here) {
                try removeEntry(named: entry, in: opened, at: here.isEmpty ? entry : here + "/" + entry, depth: depth - 1)
            }
        }
        guard unlinkat(folder, name, AT_REMOVEDIR) == 0 || errno == ENOENT else { throw failure("cannot remove", here) }
    }

    // MARK: Support

    /// The names in the folder open at `folder` (left open).
    private func names(in folder: Int32, at here: String) throws(KilnError) -> [String] {
        let listing = dup(folder)
        guard listing >= 0, let stream = fdopendir(listing) else {
            if listing >= 0 { close(listing) }
            throw failure("cannot list", here)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private func notTheTools(_ here: String, _ info: stat) -> KilnError {
        KilnError(
            .forbidden, "the image holds '\(here.isEmpty ? "." : here)', which is not the tool's own (owner uid \(info.st_uid))",
            context: ["path": here])
    }

    private func failure(_ what: String, _ here: String, errno code: Int32 = errno) -> KilnError {
        let reason = code == 0 ? "" : ": \(String(cString: strerror(code)))"
        return KilnError(.storage, "\(what) '\(here.isEmpty ? "." : here)' in the image \(path)\(reason)", context: ["path": here])
    }
}
