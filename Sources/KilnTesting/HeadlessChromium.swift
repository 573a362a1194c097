import Foundation
import Subprocess
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Debian's Chromium without a screen, to look at a page as a browser does: each run in a
/// process group of its own, with a fresh profile in a temporary folder, waited for without
/// holding a thread, and killed with everything it started once it is done or out of time.
public struct HeadlessChromium: Sendable {
    public let path: String

    /// The browser, when it is installed.
    public init?() {
        guard let path = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else { return nil }
        self.path = path
    }

    /// Runs `chromium --headless --no-sandbox --disable-gpu ARGUMENTS URL`; returns what it printed.
    public func run(_ arguments: [String], url: String, timeout: Duration = .seconds(60)) async throws -> CommandResult {
        let profile = try makeTemporaryDirectory(prefix: "kchr")
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let leader = Leader()
        defer { Self.kill(group: leader.pid.load(ordering: .relaxed), profile: profile) }
        var platformOptions = PlatformOptions()
        platformOptions.processGroupID = 0
        platformOptions.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(2))]
        let options = platformOptions
        let arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)"] + arguments + [url]
        let path = self.path
        return try await withThrowingTaskGroup(of: CommandResult?.self) { group in
            group.addTask {
                let result = try await Subprocess.run(
                    .path(FilePath(path)), arguments: Arguments(arguments), platformOptions: options, input: .none,
                    output: .string(limit: 16 << 20), error: .string(limit: 16 << 20)
                ) { execution in
                    leader.pid.store(execution.processIdentifier.value, ordering: .relaxed)
                }
                let status: Int32 =
                    switch result.terminationStatus {
                    case .exited(let code): code
                    case .signaled(let signal): 128 + signal
                    }
                return CommandResult(status: status, standardOutput: result.standardOutput ?? "", standardError: result.standardError ?? "")
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw TestFailure("chromium did not finish within \(timeout): \(arguments.joined(separator: " "))")
            }
            return result
        }
    }

    /// The run's first process, which leads its process group.
    final class Leader: Sendable {
        let pid = Atomic<Int32>(0)
    }

    /// What the run left: its process group, and any process that still uses its profile (a
    /// helper that left the group); found by that folder, which is this run's alone.
    static func kill(group leader: Int32, profile: String) {
        if leader > 1 { Glibc.kill(-leader, SIGKILL) }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid > 1,
                let commandLine = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                String(decoding: commandLine, as: UTF8.self).contains(profile)
            else { continue }
            Glibc.kill(pid, SIGKILL)
        }
    }
}
