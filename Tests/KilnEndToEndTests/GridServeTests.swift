import Foundation
import KilnTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `kiln serve --backend gridengine|slurm`: a tool's jobs run as grid jobs, as the tool, on the
/// host the grid picks, their output in the tool's home, and `jobs show` says the grid's job id
/// and host. Needs root and the grids up (scripts/test brings them up as root); skipped otherwise.
@Suite(.serialized) struct GridServeTests {
    typealias Fixture = JobsTests.Fixture

    /// Whether `program ARGUMENTS` succeeds: the grid answers.
    static func answers(_ program: String, _ arguments: [String]) async -> Bool {
        guard geteuid() == 0 else { return false }
        let environment = ["SGE_ROOT": "/var/lib/gridengine", "SGE_CELL": "default", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]
        return (try? await onOwnThread { try runCommand("/usr/bin/env", [program] + arguments, environment: environment, timeout: .seconds(30)) })?
            .status == 0
    }

    func runsAJobOnTheGrid(backend: String) async throws {
        let fixture = try await onOwnThread { try Fixture("g", serverArguments: ["--backend", backend]) }
        defer { fixture.stop() }
        let run = try await onOwnThread {
            try fixture.jobs(arguments: ["run", "hop", "--command", "echo ran as $(id -un); sleep 4", "--image", "bookworm"])
        }
        #expect(run.status == 0, "\(run)")
        // While it runs, show names the grid's job and where it runs.
        let placed = try await JobsToolforgeTests.eventually("a grid job for the run") { () async throws -> String? in
            let shown = try await onOwnThread { try fixture.jobs(arguments: ["show", "hop"]) }
            return shown.standardOutput.split(separator: "\n").first { $0.contains("Grid job:") && $0.contains(" on ") }.map(String.init)
        }
        print("grid figure: \(backend) job placed: \(placed)")
        let done = try await JobsToolforgeTests.eventually("the run completed", timeout: .seconds(60)) { () async throws -> String? in
            let status = try await onOwnThread { try fixture.show("hop")["status"] as? String }
            return status == "Completed" ? status : nil
        }
        #expect(done == "Completed")
        let output = (try? String(contentsOfFile: fixture.home + "/hop.out", encoding: .utf8)) ?? ""
        #expect(output.contains("ran as tools.\(fixture.tool)"), "\(output)")
    }

    @Test(.enabled("needs root and Son of Grid Engine up (scripts/grid-up sge)") { await answers("qstat", ["-u", "*"]) })
    func jobsRunOnSonOfGridEngine() async throws { try await runsAJobOnTheGrid(backend: "gridengine") }

    @Test(.enabled("needs root and Slurm up (scripts/grid-up slurm)") { await answers("scontrol", ["ping"]) })
    func jobsRunOnSlurm() async throws { try await runsAJobOnTheGrid(backend: "slurm") }

    @Test func aQueueGoesOnlyWithAGridAndMustBeAName() async throws {
        let local = try await onOwnThread { try kiln("serve", "--grid-queue", "all.q", "--data", "/nonexistent") }
        #expect(local.status == 2 && local.standardError.contains("--grid-queue goes with"), "\(local)")
        let hostile = try await onOwnThread { try kiln("serve", "--backend", "slurm", "--grid-queue=x;rm", "--data", "/nonexistent") }
        #expect(hostile.status == 2 && hostile.standardError.contains("is not a queue name"), "\(hostile)")
    }
}
