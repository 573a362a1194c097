import KilnCore

/// The memory, CPU and processes a tool's process may use, and how the host enforces them.
///
/// Where the host offers control groups (`ControlGroups`), each process runs in a group of its
/// unit's: memory is a hard limit (past it the kernel OOM-kills, and the end is reported as
/// such), CPU a quota of the scheduler's period, and the tool's group caps its processes. The
/// process is in its groups before anything of the tool runs: its entry (`ProcessEntry`) enters
/// them with the platform's rights, then becomes the tool. Without a memory controller, memory is
/// capped by RLIMIT_DATA, which (unlike RLIMIT_AS) does not count address space reserved but
/// never written, which runtimes such as V8 reserve by gigabytes.
public struct ResourceLimits: Sendable, Hashable {
    public var memory: MemorySize
    public var cpu: CPUQuantity
    /// Where limits are enforced; nil when this host offers no writable control group.
    public var controlGroups: ControlGroups?
    /// The process's unit; nil runs it in no group of its own.
    public var unit: ControlGroupUnit?
    /// How many processes the whole tool may have at once.
    public var toolProcessLimit: Int

    public static let defaultToolProcessLimit = 512

    public init(
        memory: MemorySize, cpu: CPUQuantity, controlGroups: ControlGroups? = ControlGroups.available, unit: ControlGroupUnit? = nil,
        toolProcessLimit: Int = Self.defaultToolProcessLimit
    ) {
        self.memory = memory
        self.cpu = cpu
        self.controlGroups = controlGroups
        self.unit = unit
        self.toolProcessLimit = toolProcessLimit
    }

    /// What the process's entry (`ProcessEntry`) is told: the groups to enter and the data
    /// segment limit where no memory group holds.
    public struct Entry: Sendable, Hashable {
        /// The `cgroup.procs` files the entry writes its pid into, with the platform's rights and
        /// before it becomes the tool.
        public var groupFiles: [String]
        /// RLIMIT_DATA in KiB; nil where the memory group holds.
        public var dataLimitKiB: Int64?
        /// The kernel's count of OOM kills in the unit's memory group before this process (a unit
        /// serves one run after another).
        public var outOfMemoryKillsBefore = 0

        public init(groupFiles: [String], dataLimitKiB: Int64?) {
            self.groupFiles = groupFiles
            self.dataLimitKiB = dataLimitKiB
        }
    }

    /// Makes the unit's groups with their limits (before the process is spawned).
    public func prepare() throws(KilnError) -> Entry {
        guard let controlGroups, let unit else {
            return Entry(groupFiles: [], dataLimitKiB: memory.bytes / 1024)
        }
        let files = try controlGroups.prepare(unit, memory: memory, cpu: cpu, toolProcessLimit: toolProcessLimit)
        var entry = Entry(groupFiles: files, dataLimitKiB: controlGroups.roots[.memory] != nil ? nil : memory.bytes / 1024)
        entry.outOfMemoryKillsBefore = controlGroups.outOfMemoryKills(in: unit)
        return entry
    }

    /// Removes the unit's groups once its processes are gone.
    public func removeGroups() async {
        guard let controlGroups, let unit else { return }
        await controlGroups.remove(unit)
    }

    /// Whether the kernel killed in the unit for its memory since `entry` was made.
    public func wasOutOfMemory(since entry: Entry) -> Bool {
        guard let controlGroups, let unit else { return false }
        return controlGroups.outOfMemoryKills(in: unit) > entry.outOfMemoryKillsBefore
    }

    /// How each limit is enforced on this host, for status.
    public var enforcement: [String: String] {
        controlGroups?.enforcement ?? [
            "mem": "RLIMIT_DATA", "cpu": "not enforced: this host gives no writable cgroup CPU controller",
            "pids": "not enforced: this host gives no writable cgroup pids controller",
        ]
    }
}
