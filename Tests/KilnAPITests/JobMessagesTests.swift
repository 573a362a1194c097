import Foundation
import KilnAPI
import KilnCore
import Testing

/// What the jobs API sends reads back the same through the API's one JSON convention
/// (snake_case both ways), as the CLI reads it.
@Suite struct JobMessagesTests {
    func roundTrip<T: Codable & Equatable>(_ value: T) throws -> T {
        try KilnJSON.decoder.decode(T.self, from: try KilnJSON.encoder.encode(value))
    }

    @Test func quotaReportsRoundTrip() throws {
        let spec = JobSpec(name: "a", command: "true", image: "bookworm", continuous: true, cpu: CPUQuantity(millicores: 250))
        let report = JobQuotaReport(quota: JobQuota(), usage: .init([spec]))
        #expect(try roundTrip(report) == report)
    }

    @Test func jobsAndRunsRoundTrip() throws {
        let tool = try ToolName("bot")
        let spec = JobSpec(
            name: "a", command: "true", image: "bookworm", schedule: "@daily", retry: 2, emails: .onfailure,
            memory: MemorySize(bytes: 1 << 30), cpu: CPUQuantity(millicores: 1500), filelogStdout: "x.log", timeout: 60,
            timeZone: "Europe/Berlin")
        var run = JobRun(id: 7, tool: tool, job: "a", trigger: .catchUp, tick: 60, missedTicks: 3, phase: .finished, attempt: 2, queuedAt: 1)
        run.handle = JobHandle(backend: "local", id: "42", processStart: 9, exitFile: "/dev/shm/x")
        run.outcome = .init(result: .timedOut, status: .signaled(signal: 9), attempts: 2)
        run.lastStatus = .signaled(signal: 9)
        let status = JobStatus(
            record: JobRecord(tool: tool, spec: spec, declaredAt: 0, lastTick: 60), home: "/h", runs: [run],
            replicaStates: [ReplicaRecord(tool: tool, index: 0, port: 1234, restarts: 2)], address: nil)
        #expect(try roundTrip(status) == status)
        #expect(try roundTrip(spec) == spec)
        let plan = JobLoadPlan(created: ["a"], changed: ["b"], deleted: ["c"], unchanged: ["d"], warnings: ["w"])
        #expect(try roundTrip(plan) == plan)
    }
}
