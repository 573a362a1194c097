import Foundation
import KilnCore
import KilnRunner
import KilnTesting
import Testing

/// The local backend with real processes: exit statuses, a signal told from an exit code, the
/// whole tree cancelled, and an attempt adopted by another backend (a restarted platform) still
/// reporting its exit code.
@Suite struct LocalJobBackendTests {
    let home: String
    let backend = LocalJobBackend(instance: "test-\(UUID().uuidString)")

    init() throws {
        home = try TestToolUser.makeHome(prefix: "kiln-jobs")
    }

    func submission(_ command: String, job: String = "j", run: Int64 = 1, image: String = "bookworm", filelog: Bool = true) throws -> JobSubmission {
        JobSubmission(
            tool: try ToolName("bot"), job: job, runID: run, attempt: 1, command: command,
            image: try JobImageCatalogue.standard.resolve(image), user: TestToolUser.identity, home: home,
            workingDirectory: home, output: filelog ? HomePath(platform: "\(job).out") : nil,
            error: filelog ? HomePath(platform: "\(job).err") : nil,
            memory: MemorySize(bytes: 512 << 20), cpu: CPUQuantity(millicores: 500), timeout: 60, environment: ["EXTRA": "yes"])
    }

    @Test func anAttemptRunsInTheHomeWithItsEnvironmentAndReportsItsExitCode() async throws {
        defer { backend.tidy(removingFiles: true) }
        let handle = try await backend.submit(try submission("echo \"$PWD $JOB_NAME $EXTRA $HOME\"; echo oops >&2; exit 3"))
        #expect(handle.backend == "local")
        for _ in 0..<200 where await backend.isRunning(handle) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(await !backend.isRunning(handle))
        #expect(try await backend.waitForEnd(handle) == .exited(code: 3))
        #expect(try String(contentsOfFile: home + "/j.out", encoding: .utf8) == "\(home) j yes \(home)\n")
        #expect(try String(contentsOfFile: home + "/j.err", encoding: .utf8) == "oops\n")
        #expect(await !backend.isRunning(handle))
    }

    @Test func aCommandKilledByASignalIsReportedAsKilled() async throws {
        defer { backend.tidy(removingFiles: true) }
        let handle = try await backend.submit(try submission("kill -9 $$"))
        #expect(try await backend.waitForEnd(handle) == .signaled(signal: 9))
    }

    @Test func cancellingKillsTheWholeTree() async throws {
        defer { backend.tidy(removingFiles: true) }
        let pids = home + "/pids"
        let handle = try await backend.submit(try submission("sleep 300 & echo $! > \(pids); sleep 300"))
        var child: Int32?
        for _ in 0..<200 where child == nil {
            child = (try? String(contentsOfFile: pids, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            try await Task.sleep(for: .milliseconds(10))
        }
        let grandchild = try #require(child)
        #expect(ProcessInspector.startTime(of: grandchild) != nil)
        await backend.cancel(handle, grace: .seconds(2))
        let status = try await backend.waitForEnd(handle)
        #expect(status == .signaled(signal: SIGTERM) || status == .signaled(signal: SIGKILL))
        // Gone, or a zombie nobody reaps yet (a container's first process may not): not running.
        for _ in 0..<100 where ProcessInspector.startTime(of: grandchild) != nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(ProcessInspector.startTime(of: grandchild) == nil)
    }

    @Test func anAttemptAdoptedByAnotherBackendStillReportsItsExitCode() async throws {
        defer { backend.tidy(removingFiles: true) }
        let gate = home + "/gate"
        let handle = try await backend.submit(try submission("while [ ! -e \(gate) ]; do sleep 0.05; done; exit 7", run: 2))
        // Another backend (the platform after a restart) knows the attempt by its handle only.
        let restarted = LocalJobBackend(instance: "other-\(UUID().uuidString)")
        defer { restarted.tidy(removingFiles: true) }
        #expect(await restarted.isRunning(handle))
        FileManager.default.createFile(atPath: gate, contents: nil)
        #expect(try await restarted.waitForEnd(handle) == .exited(code: 7))
    }

    @Test func waitingCanBeCancelledWithoutStoppingTheAttempt() async throws {
        defer { backend.tidy(removingFiles: true) }
        let handle = try await backend.submit(try submission("sleep 2"))
        let waiter = Task { try await backend.waitForEnd(handle) }
        try await Task.sleep(for: .milliseconds(100))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(await backend.isRunning(handle))
        await backend.cancel(handle, grace: .seconds(1))
    }

    @Test func withoutFileLogTheOutputIsDiscarded() async throws {
        defer { backend.tidy(removingFiles: true) }
        let handle = try await backend.submit(try submission("echo hidden", job: "quiet", filelog: false))
        #expect(try await backend.waitForEnd(handle) == .exited(code: 0))
        #expect(!FileManager.default.fileExists(atPath: home + "/quiet.out"))
    }

    @Test func aPythonImageFindsTheHostsPython() async throws {
        defer { backend.tidy(removingFiles: true) }
        let handle = try await backend.submit(try submission("python3 -c 'import sys; print(sys.version_info[0])'", image: "tf-python39"))
        #expect(try await backend.waitForEnd(handle) == .exited(code: 0))
        #expect(try String(contentsOfFile: home + "/j.out", encoding: .utf8) == "3\n")
    }
}
