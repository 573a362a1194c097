import KilnCore

/// The memory and CPU a tool's process may use, and how the host enforces them.
///
/// Memory is capped per process tree member by RLIMIT_DATA (set by util-linux `prlimit` in front
/// of the program): unlike RLIMIT_AS it does not count address space reserved but never written,
/// which runtimes such as V8 reserve by gigabytes. A CPU share cannot be expressed as an rlimit
/// (RLIMIT_CPU is total seconds, which would kill a long-running server): it needs cgroup v2's
/// cpu controller, which Kiln does not drive yet, so it is declared and shown, not enforced;
/// `enforcement` says so.
public struct ResourceLimits: Sendable, Hashable {
    public var memory: MemorySize
    public var cpu: CPUQuantity

    public init(memory: MemorySize, cpu: CPUQuantity) {
        self.memory = memory
        self.cpu = cpu
    }

    public static let prlimitPath = "/usr/bin/prlimit"

    /// What wraps the program so that the limits hold from its first instruction.
    public func wrapping(_ executable: String, _ arguments: [String]) -> (executable: String, arguments: [String]) {
        let bytes = String(memory.bytes)
        return (Self.prlimitPath, ["--data=\(bytes):\(bytes)", "--core=0:0", "--", executable] + arguments)
    }

    /// How each limit is enforced on this host, for status.
    public var enforcement: [String: String] {
        ["mem": "rlimit (RLIMIT_DATA \(memory))", "cpu": "not enforced (needs cgroup v2, not used yet)"]
    }
}
