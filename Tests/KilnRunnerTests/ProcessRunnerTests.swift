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
}
