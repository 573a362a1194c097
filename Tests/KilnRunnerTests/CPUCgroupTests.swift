import Foundation
import KilnCore
@testable import KilnRunner
import Testing

@Suite struct CPUCgroupTests {
    @Test func quotasAreInTheSchedulerPeriod() {
        let v2 = CPUCgroup(version: .v2, root: "/sys/fs/cgroup")
        #expect(v2.settings(for: CPUQuantity(millicores: 500)).map(\.value) == ["50000 100000"])
        let v1 = CPUCgroup(version: .v1, root: "/sys/fs/cgroup/cpu")
        #expect(v1.settings(for: CPUQuantity(millicores: 2000)).map { "\($0.file)=\($0.value)" }
            == ["cpu.cfs_period_us=100000", "cpu.cfs_quota_us=200000"])
        // The kernel's smallest quota is 1 ms.
        #expect(v1.settings(for: CPUQuantity(millicores: 1)).last?.value == "1000")
    }

    @Test func groupsAreApartPerInstanceToolAndReplica() throws {
        let tool = try ToolName("demo")
        let one = CPUCgroup.groupName(instance: "/a/tools/demo", tool: tool, replica: 0)
        #expect(one.hasPrefix("kiln-") && one.hasSuffix("/demo.0"))
        #expect(one == CPUCgroup.groupName(instance: "/a/tools/demo", tool: tool, replica: 0))
        #expect(one != CPUCgroup.groupName(instance: "/b/tools/demo", tool: tool, replica: 0))
        #expect(one != CPUCgroup.groupName(instance: "/a/tools/demo", tool: tool, replica: 1))
    }

    @Test func aHierarchyWithoutTheCPUControllerIsNotUsed() {
        // cgroup v2 mounted without controllers, and no v1 cpu hierarchy: nothing to enforce with.
        let mounts = "cgroup2 /nonexistent/unified cgroup2 rw,relatime 0 0\ntmpfs /sys/fs/cgroup tmpfs rw 0 0\n"
        #expect(CPUCgroup.detect(mounts: mounts) == nil)
    }

    @Test(.enabled(if: CPUCgroup.available != nil, "this host gives no writable CPU controller"))
    func aBusyProcessGetsItsShareAndNoMore() async throws {
        let cgroup = try #require(CPUCgroup.available)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "while :; do :; done"]
        try process.run()
        // SIGKILL: the test runner's threads block SIGTERM, and its children inherit that mask.
        defer { kill(process.processIdentifier, SIGKILL) }
        let group = CPUCgroup.groupName(instance: UUID().uuidString, tool: try ToolName("busy"), replica: 0)
        try cgroup.place(process.processIdentifier, in: group, cpu: CPUQuantity(millicores: 100))
        let procs = try String(contentsOfFile: cgroup.path(of: group) + "/cgroup.procs", encoding: .utf8)
        #expect(procs.contains(String(process.processIdentifier)))
        let before = try cpuSeconds(of: process.processIdentifier)
        let start = ContinuousClock.now
        try await Task.sleep(for: .seconds(2))
        let used = try cpuSeconds(of: process.processIdentifier) - before
        // A loaded machine may sleep longer than asked: the share is CPU time over the time it had.
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        #expect(used / seconds < 0.2, "a process limited to 0.1 core used \(used) s of CPU in \(seconds) s")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        await cgroup.remove(group)
        #expect(!FileManager.default.fileExists(atPath: cgroup.path(of: group)))
    }

    /// User and system CPU time of `pid` so far, in seconds.
    func cpuSeconds(of pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
        return (Double(fields[11])! + Double(fields[12])!) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
