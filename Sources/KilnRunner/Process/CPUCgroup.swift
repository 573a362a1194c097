import Foundation
import KilnCore

/// Enforces a replica's CPU share with the kernel's CPU controller: cgroup v2's `cpu.max` where
/// the unified hierarchy offers the `cpu` controller, else cgroup v1's CFS quota
/// (`cpu.cfs_quota_us`). Each replica gets its own group, `kiln-<instance>/<tool>.<replica>`,
/// and its process is moved there as soon as it is spawned (before it forks workers).
public struct CPUCgroup: Sendable, Hashable {
    public enum Version: String, Sendable, Hashable {
        case v1 = "cgroup v1"
        case v2 = "cgroup v2"
    }

    public let version: Version
    /// The hierarchy's root (`/sys/fs/cgroup` for v2, `/sys/fs/cgroup/cpu` for v1).
    public let root: String

    /// The scheduler period quotas are expressed in.
    static let periodMicroseconds = 100_000

    /// What this host offers, probed once: nil when neither hierarchy can be written.
    public static let available: CPUCgroup? = detect()

    static func detect(mounts: String? = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) -> CPUCgroup? {
        let lines = (mounts ?? "").split(separator: "\n").map { $0.split(separator: " ") }
        for fields in lines where fields.count > 3 && fields[2] == "cgroup2" {
            let root = String(fields[1])
            let controllers = (try? String(contentsOfFile: root + "/cgroup.controllers", encoding: .utf8)) ?? ""
            if controllers.split(whereSeparator: \.isWhitespace).contains("cpu"), isWritable(root) {
                return CPUCgroup(version: .v2, root: root)
            }
        }
        for fields in lines where fields.count > 3 && fields[2] == "cgroup" {
            let options = fields[3].split(separator: ",")
            let root = String(fields[1])
            if options.contains("cpu"), FileManager.default.fileExists(atPath: root + "/cpu.cfs_quota_us"), isWritable(root) {
                return CPUCgroup(version: .v1, root: root)
            }
        }
        return nil
    }

    static func isWritable(_ directory: String) -> Bool {
        access(directory, W_OK) == 0
    }

    /// The files to write for `cpu`: `cpu.max` ("QUOTA PERIOD") on v2; the quota and period on v1.
    func settings(for cpu: CPUQuantity) -> [(file: String, value: String)] {
        let quota = max(1_000, cpu.millicores * Self.periodMicroseconds / 1000)
        switch version {
        case .v2: return [("cpu.max", "\(quota) \(Self.periodMicroseconds)")]
        case .v1: return [("cpu.cfs_period_us", "\(Self.periodMicroseconds)"), ("cpu.cfs_quota_us", "\(quota)")]
        }
    }

    public func path(of group: String) -> String { root + "/" + group }

    /// Creates (or updates) `group` with the share `cpu` and moves `pid` into it.
    public func place(_ pid: Int32, in group: String, cpu: CPUQuantity) throws(KilnError) {
        let directory = path(of: group)
        do {
            if version == .v2 {
                // A v2 group's children get the controller only once their parent enables it.
                let parent = (directory as NSString).deletingLastPathComponent
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
                try? write("+cpu", to: root + "/cgroup.subtree_control")
                try? write("+cpu", to: parent + "/cgroup.subtree_control")
            }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (file, value) in settings(for: cpu) { try write(value, to: directory + "/" + file) }
            try write(String(pid), to: directory + "/cgroup.procs")
        } catch {
            throw KilnError(.internalError, "cannot limit the CPU of process \(pid) in \(directory): \(error)", context: ["cgroup": directory])
        }
    }

    /// Removes `group` once its processes are gone: the kernel refuses while any remains, and
    /// processes just killed may take a moment to go.
    public func remove(_ group: String) async {
        for _ in 0..<40 {
            if rmdir(path(of: group)) == 0 || errno == ENOENT { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        // The instance's folder goes with its last group (it stays while others are in it).
        rmdir((path(of: group) as NSString).deletingLastPathComponent)
    }

    func write(_ value: String, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.write(contentsOf: Data(value.utf8))
    }

    /// The group name of a replica: apart per platform instance (its data directory), per tool
    /// and per replica.
    public static func groupName(instance: String, tool: ToolName, replica: Int) -> String {
        groupName(instance: instance, tool: tool, unit: String(replica))
    }

    /// The group name of another unit of a tool's (a job's run: `job-NAME.RUN`).
    public static func groupName(instance: String, tool: ToolName, unit: String) -> String {
        "kiln-\(InstanceTag.of(instance))/\(tool.rawValue).\(unit)"
    }
}
