import Foundation
import KilnCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The kernel's control groups, where each of a tool's processes is held to its limits as
/// systemd and Kubernetes hold their units: memory (past it the kernel OOM-kills), CPU (a quota
/// of the scheduler's period), and the number of processes of the whole tool (a fork bomb stays
/// inside). cgroup v2's unified hierarchy where it offers the controllers, else cgroup v1's
/// hierarchies (one per controller).
///
/// Groups are `kiln-TAG/TOOL/UNIT`: the tool's group holds its process limit, each unit (a
/// replica, a job's attempt) its memory and CPU.
public struct ControlGroups: Sendable, Hashable {
    public enum Version: String, Sendable, Hashable {
        case v1 = "cgroup v1"
        case v2 = "cgroup v2"
    }

    public enum Controller: String, Sendable, Hashable, CaseIterable {
        case cpu, memory, pids
    }

    public let version: Version
    /// Each controller's hierarchy (on v2 the same root for all); a controller this host does not
    /// offer (or lets the platform write) is missing.
    public let roots: [Controller: String]

    public init(version: Version, roots: [Controller: String]) {
        self.version = version
        self.roots = roots
    }

    /// The scheduler period quotas are expressed in.
    static let periodMicroseconds = 100_000

    /// What this host offers, probed once: nil when no hierarchy can be written.
    public static let available: ControlGroups? = detect()

    static func detect(mounts: String? = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) -> ControlGroups? {
        let lines = (mounts ?? "").split(separator: "\n").map { $0.split(separator: " ") }
        for fields in lines where fields.count > 3 && fields[2] == "cgroup2" {
            let root = String(fields[1])
            let offered = ((try? String(contentsOfFile: root + "/cgroup.controllers", encoding: .utf8)) ?? "")
                .split(whereSeparator: \.isWhitespace)
            var roots: [Controller: String] = [:]
            for controller in Controller.allCases where offered.contains(Substring(controller.rawValue)) { roots[controller] = root }
            if !roots.isEmpty, access(root, W_OK) == 0 { return ControlGroups(version: .v2, roots: roots) }
        }
        var roots: [Controller: String] = [:]
        for fields in lines where fields.count > 3 && fields[2] == "cgroup" {
            let options = fields[3].split(separator: ",")
            let root = String(fields[1])
            for controller in Controller.allCases where options.contains(Substring(controller.rawValue)) && access(root, W_OK) == 0 {
                roots[controller] = root
            }
        }
        return roots.isEmpty ? nil : ControlGroups(version: .v1, roots: roots)
    }

    // MARK: Settings

    /// The files to write for `cpu`: `cpu.max` ("QUOTA PERIOD") on v2; the quota and period on v1.
    func settings(for cpu: CPUQuantity) -> [(file: String, value: String)] {
        let quota = max(1_000, cpu.millicores * Self.periodMicroseconds / 1000)
        switch version {
        case .v2: return [("cpu.max", "\(quota) \(Self.periodMicroseconds)")]
        case .v1: return [("cpu.cfs_period_us", "\(Self.periodMicroseconds)"), ("cpu.cfs_quota_us", "\(quota)")]
        }
    }

    /// The files to write for `memory`: the hard limit, past which the kernel OOM-kills.
    func settings(for memory: MemorySize) -> [(file: String, value: String)] {
        switch version {
        case .v2: return [("memory.max", "\(memory.bytes)"), ("memory.swap.max", "0")]
        case .v1: return [("memory.limit_in_bytes", "\(memory.bytes)")]
        }
    }

    func processLimitSettings(_ count: Int) -> [(file: String, value: String)] { [("pids.max", "\(count)")] }

    // MARK: Groups

    public func path(of group: String, _ controller: Controller) -> String? { roots[controller].map { $0 + "/" + group } }

    /// The hierarchies (each root once) the unit's groups are made in.
    var hierarchies: [String] { Array(Set(roots.values)).sorted() }

    /// Makes the unit's groups (and its tool's, with the tool's process limit) with its limits.
    /// Returns the files that a process writes its pid into to enter them: root's only (a tool
    /// cannot move its processes between groups), written by the process's entry before it
    /// becomes the tool.
    public func prepare(
        _ unit: ControlGroupUnit, memory: MemorySize, cpu: CPUQuantity, toolProcessLimit: Int
    ) throws(KilnError) -> [String] {
        // A unit used again with the same limits (a job's next run, a replica's next life) keeps
        // its groups: making and removing groups is what costs, a thousand runs a minute.
        let prepared = PreparedUnit(root: hierarchies.first ?? "", unit: unit, memory: memory, cpu: cpu, processes: toolProcessLimit)
        let entries = hierarchies.map { $0 + "/" + unit.group + "/cgroup.procs" }
        if Self.prepared.withLock({ $0.contains(prepared) }) { return entries }
        do {
            if version == .v2, let root = hierarchies.first {
                let enable = roots.keys.map { "+" + $0.rawValue }.sorted().joined(separator: " ")
                // A v2 group's children get a controller only once their parent enables it.
                for folder in [root, root + "/" + unit.instanceGroup, root + "/" + unit.toolGroup] {
                    try Self.makeGroup(folder)
                    try? write(enable, to: folder + "/cgroup.subtree_control")
                }
            }
            for root in hierarchies {
                try Self.makeGroup(root + "/" + unit.group)
            }
            if let tool = path(of: unit.toolGroup, .pids) {
                for (file, value) in processLimitSettings(toolProcessLimit) { try write(value, to: tool + "/" + file) }
            }
            if let group = path(of: unit.group, .cpu) {
                for (file, value) in settings(for: cpu) { try write(value, to: group + "/" + file) }
            }
            if let group = path(of: unit.group, .memory) {
                for (file, value) in settings(for: memory) { try? write(value, to: group + "/" + file) }
                // The limit itself must hold: read it back.
                let limit = try String(contentsOfFile: group + "/" + settings(for: memory)[0].file, encoding: .utf8)
                guard limit.trimmingCharacters(in: .whitespacesAndNewlines) == "\(memory.bytes)" else {
                    throw KilnError(.internalError, "the memory limit did not hold (\(limit))")
                }
            }
        } catch {
            throw KilnError(.internalError, "cannot make the control group \(unit.group): \(error)", context: ["cgroup": unit.group])
        }
        _ = Self.prepared.withLock { $0.insert(prepared) }
        return entries
    }

    /// Makes a group, and the groups above it that are missing: one `mkdir` when they are there.
    static func makeGroup(_ path: String) throws(KilnError) {
        func failed() -> KilnError { KilnError(.internalError, "cannot make \(path): \(String(cString: strerror(errno)))") }
        if mkdir(path, 0o755) == 0 || errno == EEXIST { return }
        guard errno == ENOENT, path.count > 1 else { throw failed() }
        try makeGroup((path as NSString).deletingLastPathComponent)
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw failed() }
    }

    /// A unit's groups as made, with their limits.
    struct PreparedUnit: Hashable {
        var root: String
        var unit: ControlGroupUnit
        var memory: MemorySize
        var cpu: CPUQuantity
        var processes: Int
    }

    /// The units this process made and has not removed.
    static let prepared = Mutex<Set<PreparedUnit>>([])

    /// How many times the kernel OOM-killed in the unit's memory group.
    public func outOfMemoryKills(in unit: ControlGroupUnit) -> Int {
        guard let group = path(of: unit.group, .memory) else { return 0 }
        let file = version == .v2 ? "/memory.events" : "/memory.oom_control"
        let text = (try? String(contentsOfFile: group + file, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == "oom_kill" { return Int(fields[1]) ?? 0 }
        }
        return 0
    }

    /// Removes the unit's groups once its processes are gone (the kernel refuses while any
    /// remains, and processes just killed may take a moment to go); the tool's and the instance's
    /// go with their last unit.
    public func remove(_ unit: ControlGroupUnit) async {
        Self.prepared.withLock { prepared in prepared = prepared.filter { $0.unit != unit } }
        for root in hierarchies {
            for _ in 0..<40 {
                if rmdir(root + "/" + unit.group) == 0 || errno == ENOENT { break }
                try? await Task.sleep(for: .milliseconds(50))
            }
            rmdir(root + "/" + unit.toolGroup)
            rmdir(root + "/" + unit.instanceGroup)
        }
    }

    /// Removes the groups of this instance that no process is in (at a clean shutdown: jobs keep
    /// their units between runs).
    public func removeEmpty(instanceGroup: String) {
        Self.prepared.withLock { prepared in prepared = prepared.filter { $0.unit.instanceGroup != instanceGroup } }
        for root in hierarchies {
            let instance = root + "/" + instanceGroup
            for tool in (try? FileManager.default.contentsOfDirectory(atPath: instance)) ?? [] {
                var isDirectory: ObjCBool = false
                for unit in (try? FileManager.default.contentsOfDirectory(atPath: instance + "/" + tool)) ?? []
                where FileManager.default.fileExists(atPath: instance + "/" + tool + "/" + unit, isDirectory: &isDirectory) && isDirectory.boolValue {
                    rmdir(instance + "/" + tool + "/" + unit)
                }
                rmdir(instance + "/" + tool)
            }
            rmdir(instance)
        }
    }

    func write(_ value: String, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.write(contentsOf: Data(value.utf8))
    }

    /// How each limit is enforced on this host, for status.
    public var enforcement: [String: String] {
        [
            "mem": roots[.memory] != nil ? "\(version.rawValue) memory limit (OOM kill)" : "RLIMIT_DATA",
            "cpu": roots[.cpu] != nil ? "\(version.rawValue) CPU quota" : "not enforced: this host gives no writable cgroup CPU controller",
            "pids": roots[.pids] != nil ? "\(version.rawValue) process limit per tool" : "not enforced: this host gives no writable cgroup pids controller",
        ]
    }
}

/// One unit of a tool's (a replica, a job's attempt) in the control groups of one platform
/// instance: `kiln-TAG/TOOL/UNIT`.
public struct ControlGroupUnit: Sendable, Hashable {
    public var instanceGroup: String
    public var tool: ToolName
    public var unit: String

    public init(instance: String, tool: ToolName, unit: String) {
        instanceGroup = Self.instanceGroup(of: instance)
        self.tool = tool
        self.unit = unit
    }

    /// The group of a platform instance's tools.
    public static func instanceGroup(of instance: String) -> String { "kiln-" + InstanceTag.of(instance) }

    public var toolGroup: String { instanceGroup + "/" + tool.rawValue }
    public var group: String { toolGroup + "/" + unit }
}
