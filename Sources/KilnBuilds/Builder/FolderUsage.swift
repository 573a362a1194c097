import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// What folders hold on disk, added up by a walk by descriptor: a build's, while it runs.
///
/// The folders are the tool's and its build may be changing them as they are walked; the walk
/// runs as root. So it never follows a link: each entry is examined with `AT_SYMLINK_NOFOLLOW`
/// and each folder opened `O_NOFOLLOW` relative to its parent, and a link counts as itself, not
/// what it points to. It counts allocated blocks (`st_blocks`), so a sparse file counts what it
/// uses, and a file linked under several names once. An entry removed or replaced while it is
/// walked is passed over (the next walk sees what took its place); any other failure, a folder
/// it cannot open or list, fails the walk: as root it can read everything, so a folder it cannot
/// read is no folder to skip, or a tool could hide what it writes there.
public struct FolderUsage: Sendable {
    /// Bytes allocated to the entries walked so far.
    public private(set) var bytes: Int64 = 0
    /// Entries counted (files, folders, links, anything else).
    public private(set) var entries = 0
    /// Files with more than one name, counted once.
    private var seen: Set<FileIdentity> = []

    struct FileIdentity: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// Folders within folders past this fail the walk (each level holds a descriptor open).
    public static let maximumDepth = 128

    public init() {}

    /// Adds what the entry at `components` below the folder `top` holds: a file's blocks, or a
    /// folder's with all within it; nothing when it is missing. `top` is the platform's own path
    /// (a link an operator made on the way is followed); each component is opened `O_NOFOLLOW`
    /// (no components: nothing).
    public mutating func add(_ components: [String], below top: String) throws(KilnError) {
        guard let last = components.last else { return }
        var folder = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else {
            if errno == ENOENT { return }
            throw Self.failure("cannot open", top)
        }
        var here = top
        for component in components.dropLast() {
            here += "/" + component
            let next = openat(folder, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let error = errno
            close(folder)
            guard next >= 0 else {
                if Self.isGone(error) { return }
                throw Self.failure("cannot open", here, errno: error)
            }
            folder = next
        }
        defer { close(folder) }
        let name = Array(last.utf8CString)
        var info = stat()
        guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return }
            throw Self.failure("cannot examine", here + "/" + last)
        }
        count(info)
        if (info.st_mode & S_IFMT) == S_IFDIR { try descend(into: name, of: folder, at: here + "/" + last, depth: Self.maximumDepth) }
    }

    /// Walks the folder `name` in `parent` (its own blocks already counted).
    private mutating func descend(into name: [CChar], of parent: Int32, at here: String, depth: Int) throws(KilnError) {
        guard depth > 0 else { throw Self.failure("is nested too deep (over \(Self.maximumDepth) folders) to measure", here, errno: 0) }
        let folder = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard folder >= 0 else {
            if Self.isGone(errno) { return }
            throw Self.failure("cannot open", here)
        }
        defer { close(folder) }
        // Listed and examined first, entered after: one listing open at a time, however deep.
        var folders: [[CChar]] = []
        do {
            let listing = dup(folder)
            guard listing >= 0, let stream = fdopendir(listing) else {
                let error = errno
                if listing >= 0 { close(listing) }
                throw Self.failure("cannot list", here, errno: error)
            }
            defer { closedir(stream) }
            while true {
                errno = 0
                guard let entry = readdir(stream) else {
                    if errno != 0 { throw Self.failure("cannot list", here) }
                    break
                }
                // The name's bytes as they are: a name that is not UTF-8 is still found.
                let child = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    raw.prefix { $0 != 0 }.map { CChar(bitPattern: $0) } + [0]
                }
                if child == [46, 0] || child == [46, 46, 0] { continue }
                var info = stat()
                guard fstatat(folder, child, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                    if errno == ENOENT { continue }
                    throw Self.failure("cannot examine", here + "/" + Self.text(child))
                }
                count(info)
                if (info.st_mode & S_IFMT) == S_IFDIR { folders.append(child) }
            }
        }
        for child in folders { try descend(into: child, of: folder, at: here + "/" + Self.text(child), depth: depth - 1) }
    }

    private mutating func count(_ info: stat) {
        if (info.st_mode & S_IFMT) != S_IFDIR, info.st_nlink > 1 {
            guard seen.insert(FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted else { return }
        }
        entries += 1
        let (allocated, overflow) = Int64(info.st_blocks).multipliedReportingOverflow(by: 512)
        let (total, past) = bytes.addingReportingOverflow(overflow ? .max : max(0, allocated))
        bytes = past ? .max : total
    }

    /// Removed, or replaced by a link or a file, between being examined and opened.
    private static func isGone(_ error: Int32) -> Bool { error == ENOENT || error == ENOTDIR || error == ELOOP }

    private static func text(_ name: [CChar]) -> String {
        String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func failure(_ what: String, _ here: String, errno code: Int32 = errno) -> KilnError {
        let reason = code == 0 ? "" : ": \(String(cString: strerror(code)))"
        return KilnError(.storage, "\(what) '\(here)' in the build's folders\(reason)", context: ["path": here])
    }
}
