import Foundation
import KilnCore
import KilnFiles
@testable import KilnRunner
import KilnTesting
import Testing

/// Control groups on this host's kernel: a tool's process enters its groups before its command
/// runs, and is held there to its CPU share, its memory (OOM-killed past it, and reported so) and
/// its tool's process limit (a fork bomb stays inside).
@Suite struct ControlGroupsTests {
    @Test func limitsAreWrittenInEachVersionsWords() {
        let v2 = ControlGroups(version: .v2, roots: [.cpu: "/sys/fs/cgroup", .memory: "/sys/fs/cgroup"])
        #expect(v2.settings(for: CPUQuantity(millicores: 500)).map(\.value) == ["50000 100000"])
        #expect(v2.settings(for: MemorySize(bytes: 1 << 20)).map { "\($0.file)=\($0.value)" } == ["memory.max=1048576", "memory.swap.max=0"])
        let v1 = ControlGroups(version: .v1, roots: [.cpu: "/sys/fs/cgroup/cpu"])
        #expect(v1.settings(for: CPUQuantity(millicores: 2000)).map { "\($0.file)=\($0.value)" }
            == ["cpu.cfs_period_us=100000", "cpu.cfs_quota_us=200000"])
        #expect(v1.settings(for: MemorySize(bytes: 1 << 20)).map { "\($0.file)=\($0.value)" } == ["memory.limit_in_bytes=1048576"])
        // The kernel's smallest quota is 1 ms.
        #expect(v1.settings(for: CPUQuantity(millicores: 1)).last?.value == "1000")
    }

    @Test func groupsAreApartPerInstanceToolAndUnitWithinTheirTool() throws {
        let tool = try ToolName("demo")
        let one = ControlGroupUnit(instance: "/a/tools", tool: tool, unit: "web-0")
        #expect(one.group.hasPrefix("kiln-") && one.group.hasSuffix("/demo/web-0") && one.toolGroup.hasSuffix("/demo"))
        #expect(one == ControlGroupUnit(instance: "/a/tools", tool: tool, unit: "web-0"))
        #expect(one.group != ControlGroupUnit(instance: "/b/tools", tool: tool, unit: "web-0").group)
        #expect(one.toolGroup == ControlGroupUnit(instance: "/a/tools", tool: tool, unit: "job-x.1.1").toolGroup)
    }

    @Test func hierarchiesWithoutControllersAreNotUsed() {
        let mounts = "cgroup2 /nonexistent/unified cgroup2 rw,relatime 0 0\ntmpfs /sys/fs/cgroup tmpfs rw 0 0\n"
        #expect(ControlGroups.detect(mounts: mounts) == nil)
    }

    /// Runs `script` as a tool's process with `limits` (through the runner, as the platform does).
    /// Its output goes to `output` when given.
    func run(
        _ script: String, limits: ResourceLimits, output: String? = nil, whileRunning: @escaping @Sendable (Int32) async -> Void = { _ in }
    ) async throws -> KilnCore.ExitStatus {
        let home = try TestToolUser.makeHome(prefix: "kiln-cg")
        let files = ConfinedDirectory(path: home, owner: FileOwner(TestToolUser.identity))
        let spec = ProcessSpec(
            executable: "/bin/sh", arguments: ["-c", script], environment: ["PATH": "/usr/bin:/bin"], workingDirectory: home,
            user: TestToolUser.identity, standardOutput: .file(files, HomePath(platform: "out")), standardError: .discard,
            limits: limits)
        let status = await ProcessRunner.run(spec, whileRunning: whileRunning)
        if let output { try? FileManager.default.copyItem(atPath: home + "/out", toPath: output) }
        return status
    }

    func unit(_ name: String) throws -> ControlGroupUnit {
        ControlGroupUnit(instance: "test-\(UUID().uuidString)", tool: try ToolName("busy"), unit: name)
    }

    @Test(.enabled(if: ControlGroups.available?.roots[.cpu] != nil, "this host gives no writable CPU controller"))
    func aBusyProcessIsInItsGroupBeforeItRunsAndIsThrottledToItsShare() async throws {
        let groups = try #require(ControlGroups.available)
        let unit = try unit("web-0")
        let limits = ResourceLimits(memory: MemorySize(bytes: 256 << 20), cpu: CPUQuantity(millicores: 100), unit: unit)
        let measured = Measured()
        let output = NSTemporaryDirectory() + "/kiln-cg-\(UUID().uuidString)"
        let script = "cat /proc/self/cgroup; exec timeout 2 sh -c 'while :; do :; done'"
        let statFile = try #require(groups.path(of: unit.group, .cpu)) + "/cpu.stat"
        let status = try await run(script, limits: limits, output: output) { _ in
            try? await Task.sleep(for: .milliseconds(1500))
            // The kernel's own count of the periods in which the group used up its quota.
            let stat = (try? String(contentsOfFile: statFile, encoding: .utf8)) ?? ""
            let throttled = stat.split(separator: "\n").first { $0.hasPrefix("nr_throttled ") }.flatMap { Int($0.split(separator: " ")[1]) }
            measured.set(throttled: throttled ?? 0)
        }
        #expect(status == .exited(code: 124), "\(status)")
        // The tool's command saw itself in its group from its first instruction.
        let seen = try String(contentsOfFile: output, encoding: .utf8)
        #expect(seen.split(separator: "\n").contains { $0.hasSuffix(":/" + unit.group) && $0.contains("cpu") }, "\(seen)")
        #expect(measured.throttled > 0, "a busy process limited to 0.1 core was never throttled")
        await limits.removeGroups()
        #expect(!FileManager.default.fileExists(atPath: groups.path(of: unit.group, .cpu)!))
    }

    @Test(.enabled(if: ControlGroups.available?.roots[.memory] != nil, "this host gives no writable memory controller"))
    func anAllocationPastTheMemoryLimitIsKilledAndReportedAsOutOfMemory() async throws {
        let limits = ResourceLimits(memory: MemorySize(bytes: 64 << 20), cpu: CPUQuantity(millicores: 1000), unit: try unit("job-hog.1.1"))
        defer { Task { await limits.removeGroups() } }
        let status = try await run("exec python3 -c 'b = bytearray(400 << 20); print(len(b))'", limits: limits)
        #expect(status == .outOfMemory(limit: MemorySize(bytes: 64 << 20)), "\(status)")
        #expect(status.description.contains("memory limit (64Mi)"))
    }

    @Test(.enabled(if: ControlGroups.available?.roots[.memory] != nil, "this host gives no writable memory controller"))
    func aUnitKeepsItsGroupsForItsNextRunWhichIsJudgedOnItsOwn() async throws {
        let groups = try #require(ControlGroups.available)
        let unit = try unit("job-again")
        let limits = ResourceLimits(memory: MemorySize(bytes: 64 << 20), cpu: CPUQuantity(millicores: 1000), unit: unit)
        let killed = try await run("exec python3 -c 'b = bytearray(400 << 20)'", limits: limits)
        #expect(killed == .outOfMemory(limit: MemorySize(bytes: 64 << 20)), "\(killed)")
        // The next run of the unit finds its groups made, and the earlier kill is not its own.
        #expect(FileManager.default.fileExists(atPath: try #require(groups.path(of: unit.group, .memory))))
        let next = try await run("exit 0", limits: limits)
        #expect(next == .exited(code: 0), "\(next)")
        await limits.removeGroups()
        #expect(!FileManager.default.fileExists(atPath: try #require(groups.path(of: unit.group, .memory))))
    }

    @Test(.enabled(if: ControlGroups.available?.roots[.pids] != nil, "this host gives no writable pids controller"))
    func aForkBombStaysInsideItsToolsProcessLimit() async throws {
        let groups = try #require(ControlGroups.available)
        let unit = try unit("job-bomb.1.1")
        let limits = ResourceLimits(memory: MemorySize(bytes: 512 << 20), cpu: CPUQuantity(millicores: 1000), unit: unit, toolProcessLimit: 32)
        let status = try await run("i=0; while [ $i -lt 200 ]; do sleep 3 & i=$((i+1)); done 2>/dev/null; wait", limits: limits)
        #expect(status == .exited(code: 0) || status == .exited(code: 2), "\(status)")
        let peak = try String(contentsOfFile: groups.path(of: unit.toolGroup, .pids)! + "/pids.peak", encoding: .utf8)
        let count = Int(peak.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .max
        print("fork bomb: at most \(count) processes of the tool at once (limit 32, 200 forks tried)")
        #expect(count <= 32)
        await limits.removeGroups()
    }

    final class Measured: @unchecked Sendable {
        private let lock = NSLock()
        private var throttledValue = 0
        var throttled: Int { lock.withLock { throttledValue } }
        func set(throttled: Int) { lock.withLock { throttledValue = throttled } }
    }
}
