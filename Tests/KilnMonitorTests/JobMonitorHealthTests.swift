import Foundation
import KilnCore
import KilnMonitor
import KilnRunner
import KilnTesting
import Testing

/// Continuous jobs' health checks with real processes on short probe periods: an HTTP check
/// that makes a replica ready only on 2xx/3xx, and restarts it once it stops answering; and
/// `emails: all`, which also mails each start.
extension JobMonitorTests {
    var fastProbes: JobMonitor.Configuration {
        var configuration = JobMonitor.Configuration()
        configuration.probes = ProbePolicy(
            startInterval: .milliseconds(50), period: .milliseconds(300), timeout: .milliseconds(200), failureThreshold: 3)
        return configuration
    }

    func status(_ running: Running, _ job: String, until condition: (JobStatus) -> Bool, _ what: String) async throws -> JobStatus {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let status = try await running.monitor.show(tool: tool, job: job)
            if condition(status) { return status }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("\(what): \(try await running.monitor.show(tool: tool, job: job))")
    }

    @Test func anHTTPCheckMakesAReplicaReadyAndRestartsItWhenItStopsAnswering() async throws {
        let running = start(configuration: fastProbes)
        try StuckHealthServer.script.write(toFile: home + "/stuck.py", atomically: true, encoding: .utf8)
        _ = try await running.monitor.create(
            tool: tool,
            spec: JobSpec(
                name: "stuck", command: "exec python3 stuck.py", image: "python3.11", continuous: true, port: 8125,
                healthCheckHTTP: "/healthz"))
        // Its port accepts, but /healthz says 503: not ready.
        for _ in 0..<500 where lines(StuckHealthServer.pidsFile).isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await running.monitor.show(tool: tool, job: "stuck").status == "Starting")
        _ = FileManager.default.createFile(atPath: home + "/ready", contents: nil)
        _ = try await status(running, "stuck", until: { $0.status == "Running" }, "ready once /healthz says 200")
        let first = try #require(lines(StuckHealthServer.pidsFile).first.flatMap { Int32($0) })

        // Stuck: three probes in a row get no answer, and it is restarted.
        _ = FileManager.default.createFile(atPath: home + "/hang", contents: nil)
        let restarted = try await status(running, "stuck", until: { $0.replicaStates.first?.restarts == 1 }, "restarted once")
        try FileManager.default.removeItem(atPath: home + "/hang")
        guard case .unhealthy(let reason)? = restarted.replicaStates.first?.lastExit else {
            throw TestFailure("the restart's reason: \(String(describing: restarted.replicaStates.first?.lastExit))")
        }
        #expect(reason.contains("failed 3 times in a row"), "\(reason)")
        #expect(reason.contains("GET /healthz: no answer within 200 ms"), "\(reason)")
        for _ in 0..<200 where ProcessInspector.startTime(of: first) != nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(ProcessInspector.startTime(of: first) == nil, "the stuck process was left running")
        let again = try await status(running, "stuck", until: { $0.status == "Running" }, "running again")
        #expect(again.hints.contains("Restarted 1 times."), "\(again.hints)")
        #expect(again.hints.contains("unhealthy: its health check failed 3 times"), "\(again.hints)")
        #expect(lines(StuckHealthServer.pidsFile).count == 2)
        let killed = try #require(try await runs("stuck").last)
        #expect(killed.outcome?.result == .failed)
        #expect(killed.summary.contains("unhealthy"), "\(killed.summary)")
        await running.finish()
    }

    @Test func allMailsTheStartOfARunAsWellAsItsEnd() async throws {
        let running = start()
        _ = try await running.monitor.create(tool: tool, spec: JobSpec(name: "told", command: "echo hi", image: "bookworm", emails: .all))
        for _ in 0..<500 where mailer.sent.withLock({ $0.count < 2 }) { try await Task.sleep(for: .milliseconds(10)) }
        let notices = mailer.sent.withLock { $0 }
        #expect(Set(notices.map(\.event)) == [.started, .ended], "\(notices.map(\.subject))")
        #expect(notices.allSatisfy { $0.job == "told" && $0.run.id == notices.first?.run.id })
        // onfinish: only the end.
        _ = try await running.monitor.create(tool: tool, spec: JobSpec(name: "quiet", command: "true", image: "bookworm", emails: .onfinish))
        try await waitForRuns("quiet", "finished") { $0.first?.isFinished == true }
        try await Task.sleep(for: .milliseconds(300))
        #expect(mailer.sent.withLock { $0.filter { $0.job == "quiet" }.map(\.event) } == [.ended])
        await running.finish()
    }
}
