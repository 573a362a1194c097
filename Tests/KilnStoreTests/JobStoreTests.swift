import Foundation
import KilnCore
import KilnStore
import Testing

@Suite struct JobStoreTests {
    func makeStore() async throws -> (KilnStore, ToolName) {
        let path = NSTemporaryDirectory() + "/kiln-jobs-\(UUID().uuidString).sqlite"
        let store = try KilnStore(path: path)
        let tool = try ToolName("bot")
        try await store.createTool(Tool(name: tool, maintainers: [], unixUser: nil, createdAt: 0), tokenHash: UUID().uuidString)
        return (store, tool)
    }

    func spec(_ name: String, schedule: String? = "* * * * *") -> JobSpec {
        JobSpec(name: name, command: "true", image: "bookworm", schedule: schedule)
    }

    @Test func aJobIsCreatedOnceAndReadBack() async throws {
        let (store, tool) = try await makeStore()
        let record = JobRecord(tool: tool, spec: spec("a"), declaredAt: 5)
        try await store.createJob(record)
        #expect(try await store.job("a", of: tool) == record)
        await #expect(throws: KilnError.self) { try await store.createJob(record) }
        #expect(try await store.jobs(of: tool).map(\.name) == ["a"])
    }

    @Test func aTickIsClaimedOnlyOnceEvenWhenClaimedAgainOrConcurrently() async throws {
        let (store, tool) = try await makeStore()
        try await store.createJob(JobRecord(tool: tool, spec: spec("a"), declaredAt: 0))
        let claim = KilnStore.TickClaim(tool: tool, job: "a", tick: 60, missed: 0, run: true)
        // Ten claims of one tick race: exactly one run is queued.
        let queued = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<10 { group.addTask { try await store.claimTicks([claim], at: 61).count } }
            return try await group.reduce(0, +)
        }
        #expect(queued == 1)
        // An earlier tick cannot be claimed after a later one.
        #expect(try await store.claimTicks([.init(tool: tool, job: "a", tick: 30, missed: 0, run: true)], at: 62).isEmpty)
        #expect(try await store.job("a", of: tool)?.lastTick == 60)
        let runs = try await store.runs(of: "a", tool: tool)
        #expect(runs.count == 1)
        #expect(runs.first?.tick == 60)
        #expect(runs.first?.trigger == .schedule)
    }

    @Test func aSkippedTickIsClaimedWithoutARunAndACatchUpSaysSo() async throws {
        let (store, tool) = try await makeStore()
        try await store.createJob(JobRecord(tool: tool, spec: spec("a"), declaredAt: 0))
        #expect(try await store.claimTicks([.init(tool: tool, job: "a", tick: 60, missed: 0, run: false)], at: 60).isEmpty)
        let runs = try await store.claimTicks([.init(tool: tool, job: "a", tick: 300, missed: 3, run: true)], at: 301)
        #expect(runs.map(\.trigger) == [.catchUp])
        #expect(runs.map(\.missedTicks) == [3])
        #expect(try await store.job("a", of: tool)?.lastTick == 300)
    }

    @Test func aThousandClaimsGoInOneTransaction() async throws {
        let (store, tool) = try await makeStore()
        let names = (0..<1000).map { "job\($0)" }
        try await store.applyJobChanges(.init(upserted: names.map { spec($0) }, deleted: []), of: tool, at: 0)
        let claims = names.map { KilnStore.TickClaim(tool: tool, job: $0, tick: 60, missed: 0, run: true) }
        let runs = try await store.claimTicks(claims, at: 60)
        #expect(runs.count == 1000)
        #expect(Set(runs.map(\.id)).count == 1000)
        #expect(try await store.unfinishedRuns().count == 1000)
    }

    @Test func finishedRunsLeaveTheUnfinishedListAndHistoryIsTrimmed() async throws {
        let (store, tool) = try await makeStore()
        try await store.createJob(JobRecord(tool: tool, spec: spec("a", schedule: nil), declaredAt: 0))
        for index in 0..<(KilnStore.runHistoryLength + 5) {
            var run = try await store.createRun(JobRun(tool: tool, job: "a", trigger: .run, queuedAt: Double(index)))
            run.phase = .finished
            run.outcome = .init(result: .succeeded, status: .exited(code: 0), attempts: 1)
            try await store.saveRun(run)
        }
        let open = try await store.createRun(JobRun(tool: tool, job: "a", trigger: .run, queuedAt: 100))
        #expect(try await store.unfinishedRuns().map(\.id) == [open.id])
        let history = try await store.runs(of: "a", tool: tool, limit: 1000)
        #expect(history.filter(\.isFinished).count == KilnStore.runHistoryLength)
        #expect(history.first?.id == open.id)
    }

    @Test func changesApplyTogetherAndDeletingAJobTakesItsRunsAndReplicas() async throws {
        let (store, tool) = try await makeStore()
        try await store.createJob(JobRecord(tool: tool, spec: spec("old"), declaredAt: 0))
        _ = try await store.claimTicks([.init(tool: tool, job: "old", tick: 60, missed: 0, run: true)], at: 60)
        try await store.saveJobReplica(ReplicaRecord(tool: tool, index: 0, port: 0), job: "old")
        var changed = spec("old")
        changed.command = "false"
        try await store.applyJobChanges(.init(upserted: [changed, spec("new")], deleted: []), of: tool, at: 70)
        // A changed job keeps its last tick and history.
        #expect(try await store.job("old", of: tool)?.lastTick == 60)
        #expect(try await store.job("old", of: tool)?.spec.command == "false")
        #expect(try await store.runs(of: "old", tool: tool).count == 1)
        try await store.applyJobChanges(.init(upserted: [], deleted: ["old"]), of: tool, at: 80)
        #expect(try await store.jobs(of: tool).map(\.name) == ["new"])
        #expect(try await store.runs(of: "old", tool: tool).isEmpty)
        #expect(try await store.jobReplicas(of: "old", tool: tool).isEmpty)
        // A replica of a job that is gone is not recorded.
        try await store.saveJobReplica(ReplicaRecord(tool: tool, index: 0, port: 0), job: "old")
        #expect(try await store.jobReplicas(of: "old", tool: tool).isEmpty)
    }

    /// A webservice and jobs share the tool's quota: each check sees the other's declarations in
    /// its own transaction, so creates and a declaration at once never pass together on a stale
    /// view (here the webservice weighs 3 of 5).
    @Test func jobsAndAWebserviceDeclaredAtOnceShareOneCheck() async throws {
        for _ in 0..<5 {
            let (store, tool) = try await makeStore()
            let spec = try WebserviceSpec(type: .python311)
            @Sendable func check(_ load: ToolLoad) throws(KilnError) {
                if load.jobs.count + (load.webservice == nil ? 0 : 3) > 5 { throw KilnError(.quotaExceeded, "at most 5") }
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await store.declareWebservice(WebserviceRecord(tool: tool, spec: spec, declaredAt: 0), checking: check) }
                for index in 0..<5 {
                    group.addTask { try? await store.createJob(JobRecord(tool: tool, spec: self.spec("job\(index)"), declaredAt: 0), checking: check) }
                }
            }
            let jobs = try await store.jobs(of: tool).count
            let webservice = try await store.webservice(of: tool) != nil
            #expect(jobs + (webservice ? 3 : 0) <= 5, "\(jobs) jobs and \(webservice ? "a" : "no") webservice")
        }
    }

    @Test func aCheckOnAllTheToolsJobsHoldsAgainstConcurrentCreates() async throws {
        let (store, tool) = try await makeStore()
        let created = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<10 {
                group.addTask {
                    do {
                        try await store.createJob(JobRecord(tool: tool, spec: self.spec("job\(index)"), declaredAt: 0)) { load throws(KilnError) in
                            if load.jobs.count > 5 { throw KilnError(.quotaExceeded, "at most 5") }
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(created == 5)
        #expect(try await store.jobs(of: tool).count == 5)
    }

    @Test func aRunOfAJobThatIsGoneIsNotQueued() async throws {
        let (store, tool) = try await makeStore()
        await #expect(throws: KilnError.self) {
            _ = try await store.createRun(JobRun(tool: tool, job: "ghost", trigger: .run, queuedAt: 0))
        }
        #expect(try await store.claimTicks([.init(tool: tool, job: "ghost", tick: 60, missed: 0, run: true)], at: 60).isEmpty)
    }
}
