import Foundation
import KilnCore
import KilnTesting
import Subprocess
import Testing

@testable import KilnRunner

#if canImport(Glibc)
import Glibc
#endif

/// `kiln-enter`, the first program of every process of a tool's, run directly: it enters its
/// groups with the platform's rights, then becomes the tool, enters the folder as the tool, and
/// runs the program; anything it is given wrong stops it before the program, with a message.
@Suite struct ProcessEntryTests {
    struct Outcome {
        var status: TerminationStatus
        var output: String
        var error: String
    }

    func enter(_ arguments: [String]) async throws -> Outcome {
        let helper = try ProcessEntry.helper()
        let result = try await Subprocess.run(
            .path(.init(helper)), arguments: Arguments(arguments), environment: .custom(["PATH": "/usr/bin:/bin"]),
            output: .string(limit: 64 * 1024), error: .string(limit: 64 * 1024))
        return Outcome(status: result.terminationStatus, output: result.standardOutput, error: result.standardError)
    }

    @Test(arguments: [
        (["-u", "0:0", "--", "/bin/true"], "bad user"),
        (["-u", "1000:0", "--", "/bin/true"], "bad user"),
        (["-u", "1000", "--", "/bin/true"], "bad user"),
        (["-u", "-1:5", "--", "/bin/true"], "bad user"),
        (["-u", "4294967295:5", "--", "/bin/true"], "bad user"),
        (["-u", "12x:5", "--", "/bin/true"], "bad user"),
        (["-d", "0", "--", "/bin/true"], "bad data limit"),
        (["-d", "99999999999999999999999", "--", "/bin/true"], "bad data limit"),
        (["-n", "/nonexistent/netns", "--", "/bin/true"], "cannot open the network namespace"),
        (["-n", "/etc/hostname", "--", "/bin/true"], "cannot enter the network namespace"),
        (["-x", "--", "/bin/true"], "usage"),
        (["-C", "/"], "no program"),
    ])
    func whatItIsGivenWrongStopsItBeforeTheProgram(arguments: [String], message: String) async throws {
        let outcome = try await enter(arguments)
        #expect(outcome.status == .exited(125), "\(arguments)")
        #expect(outcome.error.contains(message), "\(outcome.error)")
    }

    @Test func aProgramThatCannotRunEndsIt127() async throws {
        let outcome = try await enter(["-C", "/", "--", "/nonexistent/program"])
        #expect(outcome.status == .exited(127))
        #expect(outcome.error.contains("cannot run /nonexistent/program"), "\(outcome.error)")
    }

    @Test func itEntersItsGroupsSetsItsLimitsBecomesTheToolAndEntersTheFolder() async throws {
        let user = try #require(TestToolUser.identity, "needs root, with the tool another user")
        let home = try TestToolUser.makeHome(prefix: "kiln-enter")
        let groups = try makeTemporaryDirectory(prefix: "kiln-enter-groups")
        let procs = groups + "/cgroup.procs"
        #expect(FileManager.default.createFile(atPath: procs, contents: nil))
        let outcome = try await enter([
            "-g", procs, "-d", "1024", "-u", "\(user.uid):\(user.gid)", "-C", home, "--",
            "/bin/sh", "-c", "echo $$; ulimit -d; ulimit -c; id -u; id -G; pwd",
        ])
        #expect(outcome.status == .exited(0), "\(outcome.error)")
        let lines = outcome.output.split(separator: "\n").map(String.init)
        let entered = try String(contentsOfFile: procs, encoding: .utf8)
        #expect(lines == [entered.trimmingCharacters(in: .newlines), "1024", "0", "\(user.uid)", "\(user.gid)", home])
    }

    /// A group file is opened without following a link (they are root's, in the kernel's tree).
    @Test func aLinkedGroupFileIsNotEntered() async throws {
        let groups = try makeTemporaryDirectory(prefix: "kiln-enter-link")
        let target = groups + "/elsewhere"
        #expect(FileManager.default.createFile(atPath: target, contents: nil))
        #expect(symlink(target, groups + "/cgroup.procs") == 0)
        let outcome = try await enter(["-g", groups + "/cgroup.procs", "-C", "/", "--", "/bin/true"])
        #expect(outcome.status == .exited(125))
        #expect(outcome.error.contains("cannot enter the control group"), "\(outcome.error)")
        #expect(try String(contentsOfFile: target, encoding: .utf8).isEmpty)
    }
}
