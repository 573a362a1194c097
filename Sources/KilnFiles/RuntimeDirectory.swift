import KilnCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The platform's folder for what lives only while tools run: jobs' exit files and the sockets of
/// tools' servers (PHP's FastCGI). In memory, `/dev/shm/kiln-TAG`, where the host has it (a
/// thousand runs a minute would otherwise create and delete a thousand files on disk), else a
/// folder of the data directory.
///
/// It is root's (0711: tools may pass through, not list or add). Below it, `exits/TOOL` is root's
/// too: a tool's wrapper writes its exit status into the file made for it there, and can neither
/// add nor replace one, so the platform reads what it made. `sockets/TOOL` is the tool's own
/// (0700), where its servers make their sockets, out of every other tool's reach.
public struct RuntimeDirectory: Sendable, Hashable {
    public let path: String

    public init(path: String) { self.path = path }

    /// `/dev/shm/kiln-TAG` when it can be had as the platform's own, else `fallback`; nil when
    /// neither can.
    public static func prepare(tag: String, fallback: String) -> RuntimeDirectory? {
        for candidate in ["/dev/shm/kiln-\(tag)", fallback] {
            if (try? PrivateDirectory.ensure(candidate, mode: 0o711, owner: .process)) != nil {
                return RuntimeDirectory(path: candidate)
            }
        }
        return nil
    }

    /// Where the exit files of `tool`'s jobs go: a folder only the platform writes. Checked once
    /// per folder and process (a thousand runs a minute each need one), and again after `tidy`.
    public func exitFolder(of tool: ToolName) throws(KilnError) -> String {
        let folder = path + "/exits/" + tool.rawValue
        if Self.ensuredFolders.withLock({ $0.contains(folder) }) { return folder }
        try PrivateDirectory.ensure(path + "/exits", mode: 0o711, owner: .process)
        try PrivateDirectory.ensure(folder, mode: 0o711, owner: .process)
        _ = Self.ensuredFolders.withLock { $0.insert(folder) }
        return folder
    }

    /// The exit folders this process made or checked.
    static let ensuredFolders = Mutex<Set<String>>([])

    /// A folder of the tool's own for its servers' sockets.
    public func socketFolder(of tool: ToolName, owner: FileOwner) throws(KilnError) -> String {
        try PrivateDirectory.ensure(path + "/sockets", mode: 0o711, owner: .process)
        let folder = path + "/sockets/" + tool.rawValue
        try PrivateDirectory.ensure(folder, mode: 0o700, owner: owner)
        return folder
    }

    /// Creates, for `owner` (by descriptor), the file `name` in the exit folder of `tool`,
    /// replacing whatever had that name; the tool's wrapper writes into it.
    public func makeExitFile(_ name: String, of tool: ToolName, owner: FileOwner) throws(KilnError) -> String {
        var folder = try exitFolder(of: tool)
        var path = folder + "/" + name
        unlink(path)
        var opened = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if opened < 0 && errno == ENOENT {
            // The folder went since it was checked (tidied): make it again.
            _ = Self.ensuredFolders.withLock { $0.remove(folder) }
            folder = try exitFolder(of: tool)
            path = folder + "/" + name
            opened = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        guard opened >= 0 else { throw PrivateDirectory.failure("cannot create", path) }
        let file = Descriptor(opened)
        if owner != .process, fchown(file.rawValue, owner.uid, owner.gid) != 0 {
            throw PrivateDirectory.failure("cannot give the tool", path)
        }
        return path
    }

    /// What an exit file says (its first bytes), read without following a link or blocking.
    public static func readExitFile(_ path: String) -> String? {
        PrivateDirectory.readSmallFile(path, maximumBytes: 32).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Removes the folders that are empty (at a clean shutdown), so nothing is left once no run
    /// is left to adopt; with `removingFiles` (tests), everything.
    public func tidy(removingFiles: Bool = false) {
        Self.ensuredFolders.withLock { folders in folders = folders.filter { !$0.hasPrefix(path + "/") } }
        for group in ["exits", "sockets"] {
            let folder = path + "/" + group
            for tool in PrivateDirectory.entries(of: folder) {
                if removingFiles {
                    for file in PrivateDirectory.entries(of: folder + "/" + tool) { unlink(folder + "/" + tool + "/" + file) }
                }
                rmdir(folder + "/" + tool)
            }
            rmdir(folder)
        }
        rmdir(path)
    }
}
