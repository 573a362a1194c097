import KilnCore

#if canImport(Glibc)
import Glibc
#endif

extension ConfinedDirectory {
    /// Gives the owner everything below the root that belongs to `previous` (a tool that ran as
    /// the platform's own user and now gets a user of its own). The walk goes by descriptor and
    /// never follows a link: a link's own owner changes (`AT_SYMLINK_NOFOLLOW`), not its target's.
    /// Returns how many entries changed hands.
    @discardableResult
    public func claim(from previous: FileOwner, maximumDepth: Int = 64) throws(KilnError) -> Int {
        let opened = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard opened >= 0 else { throw failure("cannot open", .home) }
        return try claimEntries(of: opened, from: previous, at: .home, depth: maximumDepth)
    }

    /// Claims the entries of the folder open at `folder` (which this call closes).
    private func claimEntries(of folder: Int32, from previous: FileOwner, at here: HomePath, depth: Int) throws(KilnError) -> Int {
        guard let stream = fdopendir(folder) else {
            close(folder)
            throw failure("cannot list", here)
        }
        defer { closedir(stream) }
        var changed = 0
        var subfolders: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            var info = stat()
            guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            // A file with other names may have one outside the home (a hard link to a file of the
            // platform's): it is not the tool's to be given.
            let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            guard isDirectory || info.st_nlink <= 1 else { continue }
            if info.st_uid == previous.uid, fchownat(folder, name, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) == 0 { changed += 1 }
            if isDirectory { subfolders.append(name) }
        }
        guard depth > 0 else { return changed }
        for name in subfolders {
            let opened = openat(folder, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard opened >= 0 else { continue }
            changed += try claimEntries(of: opened, from: previous, at: here.appending(name), depth: depth - 1)
        }
        return changed
    }
}
