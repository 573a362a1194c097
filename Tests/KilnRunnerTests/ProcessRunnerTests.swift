import Foundation
import KilnCore
import KilnFiles
import KilnRunner
import KilnTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The runner enters a tool's working folder as the tool, never as root: a link the tool put on
/// the way leads only where the tool itself may go.
@Suite struct ProcessRunnerTests {
    func run(in folder: String, home: String, limits: ResourceLimits?) async -> KilnCore.ExitStatus {
        let files = ConfinedDirectory(path: home, owner: FileOwner(TestToolUser.identity))
        let spec = ProcessSpec(
            executable: "/bin/sh", arguments: ["-c", "pwd > \(home)/where"], environment: ["PATH": "/usr/bin:/bin"],
            workingDirectory: folder, user: TestToolUser.identity, standardOutput: .discard,
            standardError: .file(files, HomePath(platform: "err")), limits: limits)
        return await ProcessRunner.run(spec)
    }

    @Test(arguments: [false, true])
    func aLinkedWorkingFolderIsEnteredWithTheToolsRightsOnly(withLimits: Bool) async throws {
        try #require(TestToolUser.identity != nil, "needs root, with the tool another user")
        let home = try TestToolUser.makeHome(prefix: "kiln-cwd")
        let limits = withLimits ? ResourceLimits(memory: MemorySize(bytes: 256 << 20), cpu: CPUQuantity(millicores: 500)) : nil
        // Its own folder: entered.
        #expect(await run(in: home, home: home, limits: limits) == .exited(code: 0))
        #expect(try String(contentsOfFile: home + "/where", encoding: .utf8) == home + "\n")
        // A link to a folder of root's that the tool may not enter: refused, as the tool.
        let closed = try makeTemporaryDirectory(prefix: "kiln-closed")
        #expect(chmod(closed, 0o700) == 0)
        #expect(symlink(closed, home + "/src") == 0)
        let status = await run(in: home + "/src", home: home, limits: limits)
        #expect(status == .exited(code: 125), "\(status)")
        #expect(try String(contentsOfFile: home + "/err", encoding: .utf8).contains("cannot enter the folder"))
    }

    /// On cgroup v2 a tool cannot move itself into its groups (that takes the common ancestor's
    /// `cgroup.procs`): the process's entry enters them with the platform's rights, then becomes
    /// the tool, so the process is in its groups before the tool's command runs, and the groups'
    /// files stay root's. Here with a v2 hierarchy of plain files (this host may have v1), whose
    /// `cgroup.procs` records who entered.
    @Test func onCgroupV2ThePlatformEntersTheGroupsBeforeBecomingTheTool() async throws {
        try #require(TestToolUser.identity != nil, "needs root, with the tool another user")
        let home = try TestToolUser.makeHome(prefix: "kiln-v2")
        let hierarchy = try makeTemporaryDirectory(prefix: "kiln-v2-groups")
        let groups = ControlGroups(version: .v2, roots: [.cpu: hierarchy, .memory: hierarchy, .pids: hierarchy])
        let unit = ControlGroupUnit(instance: home, tool: try ToolName("v2tool"), unit: "job-x")
        let limits = ResourceLimits(memory: MemorySize(bytes: 256 << 20), cpu: CPUQuantity(millicores: 500), controlGroups: groups, unit: unit)
        // The files the kernel gives every group.
        for (group, names) in [(unit.toolGroup, ["pids.max"]), (unit.group, ["cpu.max", "memory.max", "memory.swap.max", "cgroup.procs"])] {
            try FileManager.default.createDirectory(atPath: hierarchy + "/" + group, withIntermediateDirectories: true)
            for name in names { #expect(FileManager.default.createFile(atPath: hierarchy + "/" + group + "/" + name, contents: nil)) }
        }
        let procs = hierarchy + "/" + unit.group + "/cgroup.procs"
        #expect(chmod(hierarchy, 0o755) == 0, "so the tool's command can see who entered")
        let files = ConfinedDirectory(path: home, owner: FileOwner(TestToolUser.identity))
        let spec = ProcessSpec(
            executable: "/bin/sh", arguments: ["-c", "cat \(procs) > \(home)/seen; echo $$ > \(home)/pid; id -u >> \(home)/pid"], environment: ["PATH": "/usr/bin:/bin"],
            workingDirectory: home, user: TestToolUser.identity, standardOutput: .discard,
            standardError: .file(files, HomePath(platform: "err")), limits: limits)
        let end = await ProcessRunner.run(spec)
        #expect(end == .exited(code: 0), "\(end)")
        let ran = try String(contentsOfFile: home + "/pid", encoding: .utf8).split(separator: "\n")
        let entered = try String(contentsOfFile: home + "/seen", encoding: .utf8)
        #expect(ran.count == 2 && entered == ran[0] + "\n", "the process was in its groups when the tool's command began")
        #expect(ran.last.map(String.init) == TestToolUser.identity.map { String($0.uid) }, "and as the tool")
        var status = stat()
        #expect(stat(procs, &status) == 0 && status.st_uid == 0, "not given to the tool")
        #expect(try String(contentsOfFile: hierarchy + "/" + unit.group + "/memory.max", encoding: .utf8) == "\(256 << 20)")
    }
}
