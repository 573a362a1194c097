import Foundation
import Synchronization
import KilnCore
import KilnRunner
import KilnTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What every grid backend must do with a real grid, as a real tool user: the same checks for
/// SGE and Slurm (`GridEngineIntegrationTests`, `SlurmIntegrationTests`).
struct GridScenarios {
    let backend: any JobBackend
    /// A second backend of the same kind: the platform after a restart.
    let restarted: any JobBackend
    let user: UnixIdentity
    let home: String
    /// Shows the grid's own view of a job (`qstat -j ID`, `scontrol show job ID`).
    let show: @Sendable (String) async throws -> String

    init(backend: any JobBackend, restarted: any JobBackend, show: @escaping @Sendable (String) async throws -> String) async throws {
        self.backend = backend
        self.restarted = restarted
        self.show = show
        user = try await GridTestEnvironment.toolUser()
        home = try GridTestEnvironment.makeHome(for: user)
    }

    static let runs = Atomicish()

    func submission(
        _ command: String, job: String = "j", memory: MemorySize = MemorySize(bytes: 256 << 20), timeout: Int? = 120,
        toolEnvironment: [String: String] = [:]
    ) throws -> JobSubmission {
        JobSubmission(
            tool: try ToolName("gridbot"), job: job, runID: Self.runs.next(), attempt: 1, command: command,
            image: try JobImageCatalogue.standard.resolve("bookworm"), user: user, home: home, workingDirectory: home,
            output: HomePath(platform: "\(job).out"), error: HomePath(platform: "\(job).err"), memory: memory,
            cpu: CPUQuantity(millicores: 500), timeout: timeout, environment: [:], toolEnvironment: toolEnvironment)
    }

    func read(_ name: String) -> String { (try? String(contentsOfFile: home + "/" + name, encoding: .utf8)) ?? "" }

    /// Waits (polling, asynchronously) until the grid says the attempt runs; how long that took.
    @discardableResult
    func waitUntilRunning(_ handle: JobHandle, within limit: Duration = .seconds(60)) async throws -> GridPlacement {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let placement = await backend.placement(of: handle), placement.state == "Running" { return placement }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("job \(handle.id) did not run within \(limit)")
    }

    /// Waits for the end, failing the test past `limit` rather than hanging the suite.
    func end(_ handle: JobHandle, within limit: Duration = .seconds(90), on backend: (any JobBackend)? = nil) async throws -> KilnCore.ExitStatus {
        let backend = backend ?? self.backend
        return try await withThrowingTaskGroup(of: KilnCore.ExitStatus?.self) { group in
            group.addTask { try await backend.waitForEnd(handle) }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let status = first else { throw TestFailure("job \(handle.id) did not end within \(limit)") }
            return status
        }
    }

    // MARK: Scenarios

    /// Exit codes 0 and 3, the streams in the log files, the execution host; and how long a
    /// submission takes to run (printed: a figure for the docs).
    func exitCodesLogsAndPlacement(grid: String) async throws {
        let started = ContinuousClock.now
        let failing = try await backend.submit(try submission("echo out; echo err >&2; sleep 1; exit 3", job: "three"))
        let placement = try await waitUntilRunning(failing)
        let latency = ContinuousClock.now - started
        print("grid figure: \(grid) submit→running \(latency) (job \(failing.id) on \(placement.host ?? "?"))")
        #expect(placement.host?.isEmpty == false)
        #expect(placement.jobID == failing.id)
        let succeeding = try await backend.submit(try submission("echo fine", job: "zero"))
        #expect(try await end(failing) == .exited(code: 3))
        #expect(try await end(succeeding) == .exited(code: 0))
        #expect(read("three.out") == "out\n")
        #expect(read("three.err") == "err\n")
        #expect(read("zero.out") == "fine\n")
        // Nothing of the attempts is left in the home.
        let left = (try? FileManager.default.contentsOfDirectory(atPath: home + "/.kiln/grid")) ?? []
        #expect(left.isEmpty)
    }

    /// A signal that kills the command (the exit file says so) and one that kills the wrapper
    /// itself (the grid says so).
    func signals() async throws {
        let term = try await backend.submit(try submission("sh -c 'kill -TERM $$'", job: "term"))
        let kill = try await backend.submit(try submission("kill -9 $$", job: "kill"))
        #expect(try await end(term) == .signaled(signal: SIGTERM))
        #expect(try await end(kill) == .signaled(signal: SIGKILL))
    }

    /// A job past its memory limit does not get what it asked for: killed by the grid (Slurm's
    /// OverMemoryKill: out of memory) or refused the allocation (SGE's h_vmem is an address-space
    /// limit: the program's own error).
    func memoryLimit() async throws -> KilnCore.ExitStatus {
        let hog = try await backend.submit(
            try submission(
                "python3 -c 'import time; b = bytearray(400 * 1024 * 1024); time.sleep(6); print(\"kept\")'", job: "hog",
                memory: MemorySize(bytes: 128 << 20)))
        let status = try await end(hog)
        #expect(!status.isSuccess)
        #expect(!read("hog.out").contains("kept"))
        return status
    }

    /// Cancel: TERM, then KILL after the grace; the grid forgets the job; `isRunning` after
    /// the fact is false.
    func cancel() async throws {
        let handle = try await backend.submit(try submission("sleep 300", job: "long"))
        try await waitUntilRunning(handle)
        let started = ContinuousClock.now
        await backend.cancel(handle, grace: .seconds(2))
        let status = try await end(handle, within: .seconds(60))
        #expect(status != .exited(code: 0))
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(await !backend.isRunning(handle))
    }

    /// The tool's envvars reach the job and are seen nowhere else: not in any process's
    /// arguments (`ps`), not in the grid's view of the job, not in a file left in the home.
    func environmentStaysPrivate() async throws {
        let value = "kiln-secret-\(UUID().uuidString)-'\"$(no)`no`"
        let handle = try await backend.submit(
            try submission("printf '%s' \"$SECRET_VALUE\" > secret.out; sleep 4", job: "env", toolEnvironment: ["SECRET_VALUE": value, "PLAIN": "x"]))
        try await waitUntilRunning(handle)
        try await Task.sleep(for: .seconds(1))
        let marker = "kiln-secret-"
        let processes = try await GridTestEnvironment.run("ps", ["-eo", "args"])
        #expect(!processes.output.contains(marker))
        let shown = try await show(handle.id)
        #expect(shown.contains(handle.id))
        #expect(!shown.contains(marker))
        for file in (try? FileManager.default.contentsOfDirectory(atPath: home + "/.kiln/grid")) ?? [] {
            #expect(!read(".kiln/grid/" + file).contains(marker), "\(file) holds the value")
        }
        #expect(try await end(handle) == .exited(code: 0))
        #expect(read("secret.out") == value)
    }

    /// A platform restarted while the job ran adopts it by its handle alone: it runs, its exit
    /// code comes, and afterwards it runs no more for either.
    func adoptionAfterRestart() async throws {
        let handle = try await backend.submit(try submission("sleep 3; exit 7", job: "adopted"))
        try await waitUntilRunning(handle)
        #expect(await restarted.isRunning(handle))
        #expect(try await end(handle, on: restarted) == .exited(code: 7))
        #expect(await !restarted.isRunning(handle))
        // The other knows once the grid no longer lists the job (it may, for a moment, after
        // the wrapper's end was read and its exit file removed).
        #expect(try await becomesNotRunning(handle, on: backend))
    }

    func becomesNotRunning(_ handle: JobHandle, on backend: any JobBackend, within limit: Duration = .seconds(15)) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if await !backend.isRunning(handle) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}

/// Run ids no two tests share (each attempt's files are named by them).
final class Atomicish: Sendable {
    private let counter = Mutex<Int64>(Int64(Date().timeIntervalSince1970) % 1_000_000 * 100)
    func next() -> Int64 { counter.withLock { $0 += 1; return $0 } }
}
