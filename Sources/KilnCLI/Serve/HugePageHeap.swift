import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The long-running parts (`serve`, `proxy`) keep their heap on transparent huge pages.
///
/// The route table of a large platform (100,000 tools: some 60 MB) is read at random on every
/// request; on 4 KiB pages nearly each lookup misses the TLB. Debian's kernels give huge pages only
/// to memory that asks for them (`madvise` mode), and glibc's allocator asks only when told so by
/// a tunable read at process start: so the process starts itself again, once, with it set. The
/// tools' processes get an environment of their own and never see it. `KILN_HUGEPAGES=off`
/// keeps the plain heap.
enum HugePageHeap {
    static let tunable = "glibc.malloc.hugetlb=1"

    /// Re-executes the binary with the tunable when it would help; returns when it does not apply
    /// (or the exec failed, which only loses the optimisation).
    static func reexecIfUseful(arguments: [String]) {
        guard arguments.count > 1, ["serve", "proxy"].contains(arguments[1]) else { return }
        let environment = ProcessInfo.processInfo.environment
        guard environment["KILN_HUGEPAGES"] != "off" else { return }
        let current = environment["GLIBC_TUNABLES"] ?? ""
        guard !current.contains("glibc.malloc.hugetlb"), transparentHugePagesMode() == "madvise" else { return }
        setenv("GLIBC_TUNABLES", current.isEmpty ? tunable : current + ":" + tunable, 1)
        var argv = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        // Still here: the exec failed; go on as we are.
        unsetenv("GLIBC_TUNABLES")
        if !current.isEmpty { setenv("GLIBC_TUNABLES", current, 1) }
    }

    /// The bracketed word of /sys/kernel/mm/transparent_hugepage/enabled: always, madvise or never.
    static func transparentHugePagesMode(
        path: String = "/sys/kernel/mm/transparent_hugepage/enabled"
    ) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]")
        else { return nil }
        return String(text[text.index(after: open)..<close])
    }
}
