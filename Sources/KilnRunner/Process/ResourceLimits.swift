import KilnCore
import KilnFiles

/// The memory, CPU and processes a tool's process may use, and how the host enforces them.
///
/// Where the host offers control groups (`ControlGroups`), each process runs in a group of its
/// unit's: memory is a hard limit (past it the kernel OOM-kills, and the end is reported as
/// such), CPU a quota of the scheduler's period, and the tool's group caps its processes. The
/// process enters its groups itself, from the shell that comes before the tool's command
/// (`entryPrologue`), so nothing of the tool runs outside them. Without a memory controller,
/// memory is capped by RLIMIT_DATA, which (unlike RLIMIT_AS) does not count address space
/// reserved but never written, which runtimes such as V8 reserve by gigabytes.
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

    /// What the entry shell is told: the data segment limit in KiB (`-` for none: the memory
    /// group holds), how many group files follow, and the files.
    public struct Entry: Sendable, Hashable {
        /// Where the tool's command runs: entered by the shell, as the tool, so that root never
        /// follows a link in a tool's home to get there.
        public var workingDirectory: String
        public var dataLimitKiB: String
        public var groupFiles: [String]
        /// The process could not enter by itself (cgroup v2): the platform places it once spawned.
        public var placeAfterSpawn: Bool
        /// The kernel's count of OOM kills in the unit's memory group before this process (a unit
        /// serves one run after another).
        public var outOfMemoryKillsBefore = 0

        public init(workingDirectory: String, dataLimitKiB: String, groupFiles: [String], placeAfterSpawn: Bool) {
            self.workingDirectory = workingDirectory
            self.dataLimitKiB = dataLimitKiB
            self.groupFiles = groupFiles
            self.placeAfterSpawn = placeAfterSpawn
        }

        public var arguments: [String] { [workingDirectory, dataLimitKiB, String(groupFiles.count)] + groupFiles }
    }

    /// Makes the unit's groups with their limits (before the process is spawned).
    public func prepare(owner: FileOwner, workingDirectory: String) throws(KilnError) -> Entry {
        guard let controlGroups, let unit else {
            return Entry(workingDirectory: workingDirectory, dataLimitKiB: String(memory.bytes / 1024), groupFiles: [], placeAfterSpawn: false)
        }
        let files = try controlGroups.prepare(unit, memory: memory, cpu: cpu, toolProcessLimit: toolProcessLimit, owner: owner)
        let heldByGroup = controlGroups.roots[.memory] != nil
        var entry = Entry(
            workingDirectory: workingDirectory, dataLimitKiB: heldByGroup ? "-" : String(memory.bytes / 1024), groupFiles: files,
            placeAfterSpawn: files.isEmpty && !controlGroups.roots.isEmpty)
        entry.outOfMemoryKillsBefore = controlGroups.outOfMemoryKills(in: unit)
        return entry
    }

    /// The first lines of the shell that comes before a tool's command: into its working folder
    /// (`$1`), no core files, the data limit when no memory group holds (`$2` KiB or `-`), then
    /// into each group (`$3` files, the files), leaving the rest of the arguments. A folder or a
    /// group it cannot enter stops it before anything of the tool runs.
    public static let entryPrologue = """
        cd -- "$1" 2>/dev/null || { echo "kiln: cannot enter the folder $1" >&2; exit 125; }
        shift
        ulimit -c 0
        [ "$1" = - ] || ulimit -d "$1"
        __kiln_groups=$2
        shift 2
        while [ "$__kiln_groups" -gt 0 ]; do
          echo $$ 2>/dev/null > "$1" || { echo "kiln: cannot enter the control group $1" >&2; exit 125; }
          shift
          __kiln_groups=$((__kiln_groups - 1))
        done
        unset __kiln_groups

        """

    /// The program run behind the entry shell.
    public func wrapping(_ executable: String, _ arguments: [String], entry: Entry) -> (executable: String, arguments: [String]) {
        ("/bin/sh", ["-c", Self.entryPrologue + "exec \"$@\"", "kiln-limits"] + entry.arguments + [executable] + arguments)
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
