import Foundation
import KilnCore
import KilnMonitor
import KilnRunner
import KilnStore
import KilnTesting
import Logging
import Prometheus
import Synchronization
import Testing

/// A clock the test moves by hand; with `wakesWithin`, a sleeper wakes at least that often (in
/// the clock's time) before its date, as the system's clock wakes one every minute.
final class ManualClock: JobClock {
    private let time: Mutex<Date>
    let wakesWithin: Double?

    init(_ start: Date, wakesWithin: Double? = nil) {
        time = Mutex(start)
        self.wakesWithin = wakesWithin
    }

    func now() -> Date { time.withLock { $0 } }

    func set(_ date: Date) { time.withLock { $0 = date } }

    func advance(by seconds: Double) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }

    func sleep(until date: Date) async throws {
        let wake = wakesWithin.map { min(date, now().addingTimeInterval($0)) } ?? date
        while now() < wake { try await Task.sleep(for: .milliseconds(5)) }
    }
}

/// A mailer that keeps what it was asked to send (the SMTP client itself is tested against a
/// real SMTP server; here it is the monitor's choice of what to mail).
final class RecordingMailer: JobMailer {
    let sent = Mutex<[JobNotice]>([])
    func send(_ notice: JobNotice) async throws(KilnError) { sent.withLock { $0.append(notice) } }
}

/// The job monitor with a real store and real processes, on a clock the test moves: schedules
/// fire once per tick, also across a restart of the monitor; missed ticks fold into one
/// catch-up; retries and timeouts follow the clock.
@Suite(.serialized) struct JobMonitorTests {
    let directory: String
    let store: KilnStore
    let tool = try! ToolName("bot")
    let clock = ManualClock(Date(timeIntervalSince1970: 1_893_456_010))  // 2030-01-01T00:00:10Z
    let mailer = RecordingMailer()
    let home: String

    init() async throws {
        home = try TestToolUser.makeHome(prefix: "kiln-monitor")
        directory = (home as NSString).deletingLastPathComponent
        store = try KilnStore(path: directory + "/kiln.sqlite")
        try await store.createTool(
            Tool(name: tool, maintainers: ["ada"], unixUser: TestToolUser.identity, createdAt: 0), tokenHash: "x")
    }

    /// A monitor running as `kiln serve` runs it; stop it with `stop`.
    final class Running: Sendable {
        let monitor: JobMonitor
        let backend: LocalJobBackend
        let task: Task<Void, any Error>

        init(_ monitor: JobMonitor, backend: LocalJobBackend) {
            self.monitor = monitor
            self.backend = backend
            task = Task { try await monitor.run() }
        }

        /// The platform stops; its runs go on, to be adopted.
        func stop() async {
            task.cancel()
            _ = try? await task.value
        }

        /// The test is over: nothing is left in /dev/shm.
        func finish() async {
            await stop()
            backend.tidy(removingFiles: true)
        }
    }

    func start(metrics: MonitorMetrics = .none, configuration: JobMonitor.Configuration = .init(), clock: ManualClock? = nil) -> Running {
        let home = self.home
        let clock = clock ?? self.clock
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let backend = LocalJobBackend(instance: directory)
        return Running(
            JobMonitor(
                store: store, backend: backend, clock: clock, mailer: mailer, homeOf: { _ in home }, configuration: configuration,
                metrics: metrics, logger: logger),
            backend: backend)
    }

    func runs(_ job: String) async throws -> [JobRun] { try await store.runs(of: job, tool: tool, limit: 100) }

    /// Waits (real time) until `condition` holds for the job's runs.
    @discardableResult
    func waitForRuns(_ job: String, _ what: String, timeout: Duration = .seconds(30), _ condition: ([JobRun]) -> Bool) async throws -> [JobRun] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let runs = try await runs(job)
            if condition(runs) { return runs }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("\(what): runs are \(try await runs(job).map { "\($0.id) \($0.trigger) \($0.phase) \($0.summary)" })")
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    func lines(_ file: String) -> [String] {
        ((try? String(contentsOfFile: home + "/" + file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func aScheduleFiresOncePerTickAcrossARestartAndCatchesUpOnce() async throws {
        var running = start()
        try await Task.sleep(for: .milliseconds(100))
        _ = try await running.monitor.create(
            tool: tool, spec: JobSpec(name: "tick", command: "echo $KILN_JOB_RUN >> ticks", image: "bookworm", schedule: "* * * * *"))
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await runs("tick").isEmpty)
        clock.advance(by: 55)  // 00:01:05
        try await waitForRuns("tick", "one finished run") { $0.count == 1 && $0.allSatisfy(\.isFinished) }
        clock.advance(by: 60)  // 00:02:05
        try await waitForRuns("tick", "two finished runs") { $0.count == 2 && $0.allSatisfy(\.isFinished) }

        // The platform stops and starts again within the same minute: the tick is not run again.
        await running.stop()
        running = start()
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await runs("tick").count == 2)

        // Down for five minutes: one catch-up run, which says how many ticks it stands for.
        await running.stop()
        clock.advance(by: 325)  // 00:07:30
        running = start()
        let afterCatchUp = try await waitForRuns("tick", "a catch-up") { $0.count == 3 && $0.allSatisfy(\.isFinished) }
        #expect(afterCatchUp.first?.trigger == .catchUp)
        #expect(afterCatchUp.first?.missedTicks == 4)
        #expect(afterCatchUp.first?.tick == 1_893_456_420)  // 00:07:00
        clock.advance(by: 60)
        try await waitForRuns("tick", "the next tick") { $0.count == 4 && $0.allSatisfy(\.isFinished) }
        #expect(lines("ticks").count == 4)
        await running.finish()
    }

    @Test func runsAreCountedByOutcomeAndAScheduledRunsLagIsRecorded() async throws {
        let registry = PrometheusCollectorRegistry()
        let running = start(metrics: MonitorMetrics(factory: PrometheusMetricsFactory(registry: registry)))
        try await Task.sleep(for: .milliseconds(100))
        _ = try await running.monitor.create(
            tool: tool, spec: JobSpec(name: "tick", command: "true", image: "bookworm", schedule: "* * * * *"))
        _ = try await running.monitor.create(tool: tool, spec: JobSpec(name: "once", command: "exit 3", image: "bookworm"))
        try await waitForRuns("once", "the one-off failed") { $0.count == 1 && $0.allSatisfy(\.isFinished) }
        clock.advance(by: 57)  // 00:01:07: the tick of 00:01:00 starts 7 s late
        try await waitForRuns("tick", "one finished run") { $0.count == 1 && $0.allSatisfy(\.isFinished) }
        // The monitor counts a run as it hears of its end, before the store has it.
        let text = registry.emitToString()
        #expect(text.contains("kiln_job_runs_total{outcome=\"succeeded\"} 1\n"), "\(text)")
        #expect(text.contains("kiln_job_runs_total{outcome=\"failed\"} 1\n"), "\(text)")
        #expect(text.contains("kiln_job_runs_total{outcome=\"timed-out\"} 0\n"), "\(text)")
        #expect(text.contains("kiln_job_schedule_lag_seconds_count 1\n"), "\(text)")
        #expect(text.contains("kiln_job_schedule_lag_seconds_sum 7.0\n"), "\(text)")
        await running.finish()
    }

    @Test func aRunStillGoingWhenTheNextTickComesIsNotDoubled() async throws {
        let running = start()
        _ = try await running.monitor.create(
            tool: tool, spec: JobSpec(name: "slow", command: "while [ ! -e gate ]; do sleep 0.05; done", image: "bookworm", schedule: "* * * * *"))
        clock.advance(by: 55)
        try await waitForRuns("slow", "a running run") { $0.first?.phase == .running }
        clock.advance(by: 60)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await runs("slow").count == 1)
        _ = FileManager.default.createFile(atPath: home + "/gate", contents: nil)
        try await waitForRuns("slow", "the run finished") { $0.first?.isFinished == true }
        clock.advance(by: 60)
        try await waitForRuns("slow", "the following tick ran") { $0.count == 2 }
        await running.finish()
    }

    @Test func aFailedRunIsRetriedAfterItsDelayAndMailedOnlyWhenItFailsForGood() async throws {
        let running = start()
        var spec = JobSpec(
            name: "flaky", command: "n=$(cat count 2>/dev/null || echo 0); echo $((n + 1)) > count; [ $n -ge 1 ]", image: "bookworm",
            retry: 2, emails: .onfailure)
        _ = try await running.monitor.create(tool: tool, spec: spec)
        try await waitForRuns("flaky", "a retry is waited for") { $0.first?.phase == .retrying }
        clock.advance(by: 10)
        let done = try await waitForRuns("flaky", "the second attempt succeeded") { $0.first?.isFinished == true }
        #expect(done.first?.outcome?.result == .succeeded)
        #expect(done.first?.outcome?.attempts == 2)
        #expect(mailer.sent.withLock { $0.isEmpty })

        spec.name = "broken"
        spec.command = "echo it broke >&2; exit 4"
        spec.retry = 0
        _ = try await running.monitor.create(tool: tool, spec: spec)
        try await waitForRuns("broken", "the run failed") { $0.first?.isFinished == true }
        for _ in 0..<100 where mailer.sent.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        let notice = try #require(mailer.sent.withLock { $0.first })
        #expect(notice.job == "broken")
        #expect(notice.maintainers == ["ada"])
        #expect(notice.errorTail == ["it broke"])
        #expect(notice.body.contains("exited with code 4"))
        await running.finish()
    }

    @Test func aRunOutlivesTheClocksMinuteWakesUntilItsTimeout() async throws {
        // Woken every 60 s, as by the system's clock: 90 s into a 600 s timeout is no timeout.
        let waking = ManualClock(clock.now(), wakesWithin: 60)
        let running = start(clock: waking)
        _ = try await running.monitor.create(
            tool: tool, spec: JobSpec(name: "long", command: "sleep 300", image: "bookworm", timeout: 600))
        try await waitForRuns("long", "running") { $0.first?.phase == .running }
        waking.advance(by: 90)
        try await Task.sleep(for: .milliseconds(500))
        let meanwhile = try await runs("long")
        #expect(meanwhile.first?.phase == .running, "\(meanwhile.map(\.summary))")
        waking.advance(by: 520)
        let done = try await waitForRuns("long", "timed out") { $0.first?.isFinished == true }
        #expect(done.first?.outcome?.result == .timedOut)
        await running.finish()
    }

    @Test func aRunPastItsTimeoutHasItsTreeKilledAndIsRecordedAsTimedOut() async throws {
        let running = start()
        _ = try await running.monitor.create(
            tool: tool,
            spec: JobSpec(name: "hang", command: "sleep 300 & echo $! > child; sleep 300", image: "bookworm", emails: .onfailure, timeout: 30))
        try await waitForRuns("hang", "running") { $0.first?.phase == .running }
        var child: Int32?
        for _ in 0..<200 where child == nil {
            child = lines("child").first.flatMap { Int32($0) }
            try await Task.sleep(for: .milliseconds(10))
        }
        let grandchild = try #require(child)
        clock.advance(by: 31)
        let done = try await waitForRuns("hang", "timed out") { $0.first?.isFinished == true }
        #expect(done.first?.outcome?.result == .timedOut)
        for _ in 0..<200 where ProcessInspector.startTime(of: grandchild) != nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(ProcessInspector.startTime(of: grandchild) == nil)
        // A timeout is a failure for `onfailure`.
        for _ in 0..<100 where mailer.sent.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(mailer.sent.withLock { $0.map(\.job) } == ["hang"])
        await running.finish()
    }

    @Test func aOneOffAdoptedAfterARestartKeepsItsExitCode() async throws {
        var running = start()
        _ = try await running.monitor.create(
            tool: tool, spec: JobSpec(name: "long", command: "while [ ! -e gate ]; do sleep 0.05; done; exit 5", image: "bookworm"))
        try await waitForRuns("long", "running") { $0.first?.phase == .running }
        await running.stop()
        running = start()
        _ = FileManager.default.createFile(atPath: home + "/gate", contents: nil)
        let done = try await waitForRuns("long", "finished") { $0.first?.isFinished == true }
        #expect(done.count == 1)
        #expect(done.first?.lastStatus == .exited(code: 5))
        #expect(done.first?.outcome?.result == .failed)
        await running.finish()
    }

    @Test func aContinuousJobIsRestartedWhenItDiesAndStoppedWhenDeleted() async throws {
        let running = start()
        _ = try await running.monitor.create(
            tool: tool, spec: JobSpec(name: "daemon", command: "echo $$ >> pids; exec sleep 300", image: "bookworm", continuous: true))
        for _ in 0..<300 where lines("pids").isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        let first = try #require(lines("pids").first.flatMap { Int32($0) })
        kill(first, SIGKILL)
        // The first restart comes after a second of backoff.
        clock.advance(by: 2)
        for _ in 0..<500 where lines("pids").count < 2 { try await Task.sleep(for: .milliseconds(10)) }
        let second = try #require(lines("pids").last.flatMap { Int32($0) })
        #expect(second != first)
        var restarts = 0
        for _ in 0..<200 where restarts != 1 {
            restarts = try await running.monitor.show(tool: tool, job: "daemon").replicaStates.first?.restarts ?? 0
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(restarts == 1)
        try await running.monitor.delete(tool: tool, job: "daemon")
        for _ in 0..<200 where ProcessInspector.startTime(of: second) != nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(ProcessInspector.startTime(of: second) == nil)
        await #expect(throws: KilnError.self) { try await running.monitor.show(tool: tool, job: "daemon") }
        await running.finish()
    }

    @Test func aContinuousJobsPortIsReachedAtItsStableAddress() async throws {
        let running = start()
        try "relayed".write(toFile: home + "/index.txt", atomically: true, encoding: .utf8)
        let created = try await running.monitor.create(
            tool: tool,
            spec: JobSpec(
                name: "web", command: "exec python3 -m http.server --bind 127.0.0.1 $PORT", image: "python3.11", continuous: true,
                port: 8123, replicas: 2))
        let address = try #require(created.status.address)
        #expect(address == JobAddress.host(tool: tool, job: "web") + ":8123")
        let backend = try HostPort(parsing: address)
        // The relay is the server's own listener.
        let relayOwner = BackendOwner.uid(geteuid())
        var answered: Int?
        for _ in 0..<200 where answered != 200 {
            answered = await HealthProbe.status(of: backend, path: "/index.txt", host: "web", owner: relayOwner, timeout: .milliseconds(500))
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(answered == 200)
        // Both replicas get there (the relay answered through the first one ready).
        var status = ""
        for _ in 0..<300 where status != "Running" {
            status = try await running.monitor.show(tool: tool, job: "web").status
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(status == "Running")
        try await running.monitor.delete(tool: tool, job: "web")
        #expect(await HealthProbe.status(of: backend, path: "/", host: "web", owner: relayOwner) == nil)
        await running.finish()
    }

    @Test func loadAppliesCreatesChangesAndDeletesAndADryRunChangesNothing() async throws {
        let running = start()
        func job(_ name: String, _ command: String = "true") -> JobSpec {
            JobSpec(name: name, command: command, image: "bookworm", schedule: "@daily")
        }
        _ = try await running.monitor.load(tool: tool, specs: [job("a"), job("b")], only: nil, dryRun: false)
        let dry = try await running.monitor.load(tool: tool, specs: [job("a", "false"), job("c")], only: nil, dryRun: true)
        #expect(dry.created == ["c"] && dry.changed == ["a"] && dry.deleted == ["b"])
        #expect(try await store.jobs(of: tool).map(\.name) == ["a", "b"])
        let plan = try await running.monitor.load(tool: tool, specs: [job("a", "false"), job("c")], only: nil, dryRun: false)
        #expect(plan == dry)
        #expect(try await store.jobs(of: tool).map(\.name) == ["a", "c"])
        #expect(try await store.job("a", of: tool)?.spec.command == "false")
        // Refused before anything changes: a retired image is fine, an unknown one is not.
        await #expect(throws: KilnError.self) {
            _ = try await running.monitor.load(
                tool: tool, specs: [job("d"), JobSpec(name: "e", command: "x", image: "cobol")], only: nil, dryRun: false)
        }
        #expect(try await store.jobs(of: tool).map(\.name) == ["a", "c"])
        await running.finish()
    }

    @Test func theWebserviceAndContinuousJobsShareOneBudget() async throws {
        let running = start()
        // The tool's webservice holds 6Gi of the 8Gi that runs all the time.
        let web = try WebserviceSpec(type: .staticFiles, replicas: 3, memory: MemorySize(bytes: 2 << 30))
        try await store.declareWebservice(WebserviceRecord(tool: tool, spec: web, declaredAt: 0))
        let bot = JobSpec(name: "bot", command: "sleep 60", image: "bookworm", continuous: true, memory: MemorySize(bytes: 3 << 30))
        await #expect {
            _ = try await running.monitor.load(tool: tool, specs: [bot], only: nil, dryRun: true)
        } throws: { error in
            (error as? KilnError)?.code == .quotaExceeded && (error as? KilnError)?.context["field"] == "mem"
        }
        await #expect(throws: KilnError.self) { _ = try await running.monitor.create(tool: tool, spec: bot) }
        #expect(try await store.jobs(of: tool).isEmpty)
        let usage = try await running.monitor.quota(tool: tool).usage
        #expect(usage.webserviceMemory == MemorySize(bytes: 6 << 30))
        await running.finish()
    }
}
