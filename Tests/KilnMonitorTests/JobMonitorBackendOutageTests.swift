import Foundation
import KilnCore
import KilnMonitor
import KilnRunner
import Logging
import Synchronization
import Testing

/// The local backend behind a switch: while it is "down" every submission is refused as a grid
/// whose controller does not answer refuses it, so the monitor's handling of an outage is seen
/// with real processes once it is "up" again. (The grids' own backends raise the same error;
/// they are tested against real grids.)
final class SwitchedBackend: JobBackend {
    let local: LocalJobBackend
    let reachable = Mutex(false)
    let refused = Mutex(0)
    var name: String { local.name }

    init(_ local: LocalJobBackend) { self.local = local }

    func submit(_ submission: JobSubmission) async throws(KilnError) -> JobHandle {
        guard reachable.withLock({ $0 }) else {
            refused.withLock { $0 += 1 }
            throw KilnError.backendUnreachable("test-grid", "the grid's controller does not answer")
        }
        return try await local.submit(submission)
    }

    func waitForEnd(_ handle: JobHandle) async throws -> KilnCore.ExitStatus { try await local.waitForEnd(handle) }
    func isRunning(_ handle: JobHandle) async -> Bool { await local.isRunning(handle) }
    func cancel(_ handle: JobHandle, grace: Duration) async { await local.cancel(handle, grace: grace) }
}

extension JobMonitorTests {
    func start(switched backend: SwitchedBackend) -> Running {
        let home = self.home
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return Running(
            JobMonitor(store: store, backend: backend, clock: clock, mailer: mailer, homeOf: { _ in home }, logger: logger),
            backend: backend.local)
    }

    @Test func aRunWaitsOutAnUnreachableBackendWithoutLosingAnAttempt() async throws {
        let backend = SwitchedBackend(LocalJobBackend(instance: directory))
        let running = start(switched: backend)
        _ = try await running.monitor.create(
            tool: tool, spec: JobSpec(name: "once", command: "echo ran >> once.out", image: "bookworm", retry: 0))
        try await waitForRuns("once", "a waiting run") { $0.first?.phase == .waiting }
        let shown = try await running.monitor.show(tool: tool, job: "once")
        #expect(shown.status == "Waiting" && shown.hints.contains("the grid's controller does not answer"), "\(shown.status): \(shown.hints)")
        // Still down at the next try (2 s later): it waits again, longer, and nothing ran.
        clock.advance(by: 2)
        for _ in 0..<500 where backend.refused.withLock({ $0 }) < 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(backend.refused.withLock { $0 } == 2)
        #expect(try await runs("once").count == 1 && lines("once.out").isEmpty)
        // Up again: the same run's first attempt runs, once.
        backend.reachable.withLock { $0 = true }
        clock.advance(by: 4)
        let finished = try await waitForRuns("once", "the run finished") { $0.first?.isFinished == true }
        #expect(finished.count == 1 && finished[0].outcome?.result == .succeeded && finished[0].outcome?.attempts == 1)
        #expect(lines("once.out") == ["ran"])
        await running.finish()
    }

    @Test func aContinuousReplicaWaitsForTheBackendAndIsNotCountedAsDead() async throws {
        let backend = SwitchedBackend(LocalJobBackend(instance: directory))
        let running = start(switched: backend)
        _ = try await running.monitor.create(
            tool: tool, spec: JobSpec(name: "daemon", command: "exec sleep 600", image: "bookworm", continuous: true))
        try await waitForRuns("daemon", "a waiting life") { $0.first?.phase == .waiting }
        #expect(try await running.monitor.show(tool: tool, job: "daemon").status == "Waiting")
        for _ in 0..<5 {
            clock.advance(by: 30)
            try await Task.sleep(for: .milliseconds(50))
        }
        backend.reachable.withLock { $0 = true }
        clock.advance(by: 30)
        let shown = try await waitForStatus(running, "daemon", "Running")
        // Its waits were no deaths: no restarts, and one life.
        #expect(!shown.hints.contains("Restarted"), "\(shown.hints)")
        #expect(try await runs("daemon").filter { $0.phase == .running }.count == 1)
        try await running.monitor.delete(tool: tool, job: "daemon")
        await running.finish()
    }

    /// Waits (real time) for the job's status words.
    func waitForStatus(_ running: Running, _ job: String, _ words: String) async throws -> JobStatus {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let status = try await running.monitor.show(tool: tool, job: job)
            if status.status == words { return status }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("\(job) is not \(words): \(try await running.monitor.show(tool: tool, job: job))")
    }
}
