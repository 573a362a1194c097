import CKilnSystem
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// A directory the platform works in on a tool's behalf (its home), where the tool may have put
/// anything: a symlink to `/etc/passwd`, a hard link to another tool's token, a FIFO, a device.
///
/// The server runs as root, so it never uses a path in there as a path. It opens the directory,
/// then each component below it relative to the one before (`openat`) with `O_NOFOLLOW`, so no
/// link is followed and no component can be swapped under it by a race; files are opened with
/// `O_NONBLOCK` (a FIFO cannot stall it) and used only when `fstat` says they are regular files of
/// the tool's own with a single link (`usableFile`). Files it creates are created exclusively and
/// given to the tool through the descriptor (`fchown`), never by path.
public struct ConfinedDirectory: Sendable, Hashable {
    /// The directory on the host; its parents are the platform's (the tool cannot change them).
    public let path: String
    /// Whose files it holds: only theirs are used, and what the platform creates becomes theirs.
    public let owner: FileOwner

    public init(path: String, owner: FileOwner) {
        self.path = path
        self.owner = owner
    }

    /// Mode of the folders created for the tool (logs/, .kiln/).
    public static let directoryMode: mode_t = 0o750

    // MARK: Files

    /// Opens `file` for appending (its folders and the file created when missing, the tool's);
    /// the caller owns the returned descriptor.
    public func openForAppending(_ file: HomePath, mode: mode_t = 0o640) throws(KilnError) -> Int32 {
        let name = try fileName(file)
        let parent = try openDirectory(file.components.dropLast(), creating: true)
        let flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        // Mostly the file is there (a log appended to line by line): opened as it is.
        if let existing = try openExisting(name, in: parent, flags: flags, file) { return existing }
        // Made the tool's under a name of its own, then put in place only if the name is still
        // free: another opener never sees it while it is still the platform's (two replicas
        // starting at once share their log files).
        let temporary = ".\(name).kiln-\(getpid())-\(UInt32.random(in: .min ... .max))"
        let created = openat(parent.rawValue, temporary, flags | O_CREAT | O_EXCL, mode)
        guard created >= 0 else { throw failure("cannot create a file beside", file) }
        do throws(KilnError) {
            let descriptor = Descriptor(created)
            try adopt(descriptor, mode: mode, file)
            try clearNonBlocking(descriptor, file)
            if ckiln_rename_noreplace(parent.rawValue, temporary, name) == 0 { return descriptor.take() }
            guard errno == EEXIST else { throw failure("cannot create", file) }
        } catch {
            unlinkat(parent.rawValue, temporary, 0)
            throw error
        }
        // Someone made it meanwhile: theirs is used.
        unlinkat(parent.rawValue, temporary, 0)
        guard let existing = try openExisting(name, in: parent, flags: flags, file) else { throw failure("cannot open", file) }
        return existing
    }

    /// `name` in `parent` opened with `flags` when it is there and usable (the tool's regular
    /// file); nil when it is missing.
    private func openExisting(_ name: String, in parent: borrowing Descriptor, flags: Int32, _ file: HomePath) throws(KilnError) -> Int32? {
        let opened = openat(parent.rawValue, name, flags)
        guard opened >= 0 else {
            if errno == ENOENT { return nil }
            throw failure("cannot open", file)
        }
        let descriptor = Descriptor(opened)
        try usableFile(descriptor, file)
        try clearNonBlocking(descriptor, file)
        return descriptor.take()
    }

    /// Opens `file` for reading; nil when it (or a folder on its way) does not exist.
    public func openForReading(_ file: HomePath) throws(KilnError) -> Descriptor? {
        let name = try fileName(file)
        guard let parent = try openParentIfPresent(of: file) else { return nil }
        let opened = openat(parent.rawValue, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard opened >= 0 else {
            if errno == ENOENT { return nil }
            throw failure("cannot open", file)
        }
        let descriptor = Descriptor(opened)
        try usableFile(descriptor, file)
        return descriptor
    }

    /// Writes `contents` to `file` whole: through a new file beside it, renamed over it, so that
    /// whatever was at that name (a link included) is replaced, never written through.
    public func write(_ contents: [UInt8], to file: HomePath, mode: mode_t = 0o644) throws(KilnError) {
        let name = try fileName(file)
        let parent = try openDirectory(file.components.dropLast(), creating: true)
        let temporary = ".\(name).kiln-\(getpid())-\(UInt32.random(in: .min ... .max))"
        let opened = openat(parent.rawValue, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard opened >= 0 else { throw failure("cannot create a file beside", file) }
        do {
            let descriptor = Descriptor(opened)
            try adopt(descriptor, mode: mode, file)
            try writeAll(contents, to: descriptor, file)
        } catch {
            unlinkat(parent.rawValue, temporary, 0)
            throw error
        }
        guard renameat(parent.rawValue, temporary, parent.rawValue, name) == 0 else {
            let error = failure("cannot replace", file)
            unlinkat(parent.rawValue, temporary, 0)
            throw error
        }
    }

    /// Removes `file` (the name only: a link goes, not what it points to); false when it was not there.
    @discardableResult
    public func removeFile(_ file: HomePath) -> Bool {
        guard let name = file.components.last, let parent = try? openParentIfPresent(of: file) else { return false }
        return unlinkat(parent.rawValue, name, 0) == 0
    }

    /// Creates the folder `directory` (and those on its way), the tool's, when missing.
    public func makeDirectory(_ directory: HomePath) throws(KilnError) {
        _ = try openDirectory(directory.components[...], creating: true)
    }

    /// When `file` is over `limit` bytes, its content moves to `NAME.1` (the previous `.1` is
    /// replaced) and the file is emptied in place. The writer keeps its descriptor, opened with
    /// O_APPEND, so it goes on writing at the new end: nothing has to be restarted.
    @discardableResult
    public func rotate(_ file: HomePath, ifLargerThan limit: UInt64) throws(KilnError) -> Bool {
        let name = try fileName(file)
        guard let parent = try openParentIfPresent(of: file) else { return false }
        let opened = openat(parent.rawValue, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard opened >= 0 else {
            if errno == ENOENT { return false }
            throw failure("cannot open", file)
        }
        let descriptor = Descriptor(opened)
        let info = try usableFile(descriptor, file)
        guard info.st_size > 0, UInt64(info.st_size) > limit else { return false }
        let rotatedName = name + ".1"
        let temporary = ".\(rotatedName).kiln-\(getpid())"
        unlinkat(parent.rawValue, temporary, 0)
        let copyOpened = openat(parent.rawValue, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard copyOpened >= 0 else { throw failure("cannot create a file beside", file) }
        do {
            let copy = Descriptor(copyOpened)
            try adopt(copy, mode: mode_t(info.st_mode) & 0o777, file)
            try copyContent(from: descriptor, to: copy, file)
        } catch {
            unlinkat(parent.rawValue, temporary, 0)
            throw error
        }
        guard renameat(parent.rawValue, temporary, parent.rawValue, rotatedName) == 0 else {
            let error = failure("cannot replace the rotated copy of", file)
            unlinkat(parent.rawValue, temporary, 0)
            throw error
        }
        guard ftruncate(descriptor.rawValue, 0) == 0 else { throw failure("cannot empty", file) }
        return true
    }

    // MARK: Walking

    /// The file's name in its folder.
    func fileName(_ file: HomePath) throws(KilnError) -> String {
        guard let name = file.components.last else {
            throw KilnError(.badRequest, "the tool's home itself is not a file", context: ["path": path])
        }
        return name
    }

    /// The folder that holds `file`; nil when it (or one on its way) does not exist.
    func openParentIfPresent(of file: HomePath) throws(KilnError) -> Descriptor? {
        do {
            return try openDirectory(file.components.dropLast(), creating: false)
        } catch let error where error.context["errno"] == String(ENOENT) {
            return nil
        }
    }

    /// Opens the folder `components` below the root, one component at a time without following
    /// links; each must be a folder of the owner's.
    func openDirectory(_ components: ArraySlice<String>, creating: Bool) throws(KilnError) -> Descriptor {
        let rootOpened = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootOpened >= 0 else { throw failure("cannot open", .home) }
        var current = Descriptor(rootOpened)
        try ownedDirectory(current, .home)
        var here = HomePath.home
        for component in components {
            here = here.appending(component)
            var opened = openat(current.rawValue, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if opened < 0 && errno == ENOENT && creating {
                // Made under a name of its own, given to the tool, then renamed into place: a
                // folder never shows under its name as the platform's, where a caller making the
                // same folder at the same moment would find it and refuse it as not the tool's.
                var random = SystemRandomNumberGenerator()
                let temporary = ".\(component).kiln-\(getpid())-\(random.next() as UInt32)"
                guard mkdirat(current.rawValue, temporary, Self.directoryMode) == 0 else { throw failure("cannot create", here) }
                let made = openat(current.rawValue, temporary, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard made >= 0 else {
                    unlinkat(current.rawValue, temporary, AT_REMOVEDIR)
                    throw failure("cannot open", here)
                }
                let created = Descriptor(made)
                do {
                    try adopt(created, mode: Self.directoryMode, here)
                } catch {
                    unlinkat(current.rawValue, temporary, AT_REMOVEDIR)
                    throw error
                }
                if ckiln_rename_noreplace(current.rawValue, temporary, component) == 0 {
                    current = created
                    continue
                }
                let renameError = errno
                unlinkat(current.rawValue, temporary, AT_REMOVEDIR)
                guard renameError == EEXIST else { throw failure("cannot create", here) }
                // Someone made it first: theirs is used, and checked as anything found is.
                opened = openat(current.rawValue, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            guard opened >= 0 else { throw failure("cannot open", here) }
            let next = Descriptor(opened)
            try ownedDirectory(next, here)
            current = next
        }
        return current
    }

    // MARK: Checks

    /// A file the platform may use: a regular file, the owner's, with one link.
    @discardableResult
    func usableFile(_ descriptor: borrowing Descriptor, _ file: HomePath) throws(KilnError) -> stat {
        guard let info = descriptor.status() else { throw failure("cannot inspect", file) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw refusal(file, "is not a regular file (a FIFO, a device, a socket or a folder)")
        }
        guard info.st_uid == owner.uid else { throw refusal(file, "belongs to uid \(info.st_uid), not to the tool") }
        guard info.st_nlink == 1 else { throw refusal(file, "has \(info.st_nlink) hard links") }
        return info
    }

    func ownedDirectory(_ descriptor: borrowing Descriptor, _ directory: HomePath) throws(KilnError) {
        guard let info = descriptor.status() else { throw failure("cannot inspect", directory) }
        guard info.st_uid == owner.uid else { throw refusal(directory, "is a folder of uid \(info.st_uid), not of the tool") }
    }

    /// Gives what the platform just created to the owner, by descriptor.
    func adopt(_ descriptor: borrowing Descriptor, mode: mode_t, _ file: HomePath) throws(KilnError) {
        guard fchmod(descriptor.rawValue, mode) == 0 else { throw failure("cannot set the mode of", file) }
        if owner != .process, fchown(descriptor.rawValue, owner.uid, owner.gid) != 0 {
            throw failure("cannot give the tool", file)
        }
    }

    func clearNonBlocking(_ descriptor: borrowing Descriptor, _ file: HomePath) throws(KilnError) {
        let flags = fcntl(descriptor.rawValue, F_GETFL)
        guard flags >= 0, fcntl(descriptor.rawValue, F_SETFL, flags & ~O_NONBLOCK) == 0 else {
            throw failure("cannot set the flags of", file)
        }
    }

    func writeAll(_ contents: [UInt8], to descriptor: borrowing Descriptor, _ file: HomePath) throws(KilnError) {
        var offset = 0
        while offset < contents.count {
            let written = contents[offset...].withUnsafeBytes { Glibc.write(descriptor.rawValue, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw failure("cannot write", file) }
            offset += written
        }
    }

    func copyContent(from source: borrowing Descriptor, to target: borrowing Descriptor, _ file: HomePath) throws(KilnError) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(source.rawValue, $0.baseAddress, $0.count, offset) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw failure("cannot read", file) }
            if count == 0 { return }
            try writeAll(Array(buffer[..<count]), to: target, file)
            offset += off_t(count)
        }
    }

    func failure(_ what: String, _ file: HomePath) -> KilnError {
        let code = errno
        let reason =
            code == ELOOP || code == ENOTDIR
            ? "it is a symbolic link or not a folder, which the platform does not follow" : String(cString: strerror(code))
        return KilnError(
            .forbidden, "\(what) ~/\(file): \(reason)", context: ["path": file.absolute(in: path), "errno": String(code)])
    }

    func refusal(_ file: HomePath, _ why: String) -> KilnError {
        KilnError(.forbidden, "~/\(file) \(why): the platform does not use it", context: ["path": file.absolute(in: path)])
    }
}
