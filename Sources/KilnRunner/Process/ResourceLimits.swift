import KilnCore

/// The memory and CPU a tool's process may use, and how the host enforces them.
///
/// Memory is capped by RLIMIT_DATA (set by util-linux `prlimit` in front of the program): unlike
/// RLIMIT_AS it does not count address space reserved but never written, which runtimes such as
/// V8 reserve by gigabytes. A CPU share cannot be an rlimit (RLIMIT_CPU is total seconds, which
/// would kill a long-running server): it is the kernel's CPU controller's quota, in a cgroup of
/// the replica's own (`CPUCgroup`), where the host lets the platform write one.
public struct ResourceLimits: Sendable, Hashable {
    public var memory: MemorySize
    public var cpu: CPUQuantity
    /// Where the CPU share is enforced; nil when this host offers no writable CPU controller.
    public var cpuCgroup: CPUCgroup?
    /// The replica's group in `cpuCgroup`.
    public var cgroupName: String?
    /// Whether `wrapping` puts `prlimit` in front of the program; false when the program sets its
    /// memory limit itself (a job's wrapper shell does, saving an exec per run).
    public var wrapsWithPrlimit = true

    public init(memory: MemorySize, cpu: CPUQuantity, cpuCgroup: CPUCgroup? = CPUCgroup.available, cgroupName: String? = nil) {
        self.memory = memory
        self.cpu = cpu
        self.cpuCgroup = cpuCgroup
        self.cgroupName = cgroupName
    }

    public static let prlimitPath = "/usr/bin/prlimit"

    /// What wraps the program so that the limits hold from its first instruction.
    public func wrapping(_ executable: String, _ arguments: [String]) -> (executable: String, arguments: [String]) {
        guard wrapsWithPrlimit else { return (executable, arguments) }
        let bytes = String(memory.bytes)
        return (Self.prlimitPath, ["--data=\(bytes):\(bytes)", "--core=0:0", "--", executable] + arguments)
    }

    /// Moves the just-spawned `pid` into its CPU group (a no-op where there is none).
    public func placeInCPUGroup(_ pid: Int32) throws(KilnError) {
        guard let cpuCgroup, let cgroupName else { return }
        try cpuCgroup.place(pid, in: cgroupName, cpu: cpu)
    }

    /// Removes the CPU group once its processes are gone.
    public func removeCPUGroup() async {
        guard let cpuCgroup, let cgroupName else { return }
        await cpuCgroup.remove(cgroupName)
    }

    /// How each limit is enforced on this host, for status.
    public var enforcement: [String: String] {
        [
            "mem": "RLIMIT_DATA (prlimit)",
            "cpu": cpuCgroup.map { "\($0.version.rawValue) CPU quota" }
                ?? "not enforced: this host gives no writable cgroup CPU controller",
        ]
    }
}
