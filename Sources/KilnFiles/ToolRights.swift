import CKilnSystem
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// Looks at a tool's files with the tool's rights rather than root's: whether its `app.py`, its
/// virtualenv's gunicorn or its `public_html/` are there, when following its links as root would
/// tell the tool whether any path of the host exists (a link to `/root/…` that "exists").
///
/// The kernel checks file access against a thread's file system ids and groups, which the
/// platform sets for the calling thread alone (`setfsuid`, `setfsgid`, and the raw `setgroups`
/// call: glibc's would change every thread) and restores afterwards; root's file capabilities
/// leave the thread while its file system uid is not 0.
public enum ToolRights {
    /// Runs `body` with `owner`'s file rights on this thread. `body` is synchronous, so it runs
    /// on this thread to its end. Without root there is nothing to change: the server's rights
    /// are the tool's (single-user mode) or less.
    public static func checking<T>(as owner: FileOwner, _ body: () throws(KilnError) -> T) throws(KilnError) -> T {
        guard geteuid() == 0, owner.uid != 0 else { return try body() }
        var groups = [gid_t](repeating: 0, count: max(Int(ckiln_thread_groups(0, nil)), 1))
        let count = Int(ckiln_thread_groups(groups.count, &groups))
        guard count >= 0, ckiln_thread_set_fs_identity(owner.uid, owner.gid, 0, nil) == 0 else {
            let reason = String(cString: strerror(errno))
            restore(groups.prefix(max(count, 0)))
            throw KilnError(.internalError, "cannot look at the tool's files with its rights: \(reason)")
        }
        defer { restore(groups.prefix(count)) }
        return try body()
    }

    /// Back to the server's own ids and groups. Should that fail, the thread keeps the tool's
    /// rights, which are less than root's: later work on it fails rather than reaches further.
    private static func restore(_ groups: ArraySlice<gid_t>) {
        _ = Array(groups).withUnsafeBufferPointer { ckiln_thread_set_fs_identity(geteuid(), getegid(), $0.count, $0.baseAddress) }
    }
}
