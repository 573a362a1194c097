import Foundation
import KilnCore
import Testing

@Suite struct JobImageCatalogueTests {
    let catalogue = JobImageCatalogue.standard

    @Test(arguments: ["python3.11", "python3.13", "php8.2", "node18", "bookworm", "jdk17", "mariadb"])
    func currentNamesResolveWithoutWarning(_ name: String) throws {
        let image = try catalogue.resolve(name)
        #expect(image.shortName == name)
        #expect(image.retirementWarning == nil)
    }

    @Test(arguments: [
        ("tf-python39", JobImage.Runtime.python), ("python3.9", .python), ("tf-node12", .node), ("tf-php74", .php),
        ("tf-jdk17", .java), ("bullseye", .debian), ("tf-bullseye-std", .debian), ("tf-mono68", .mono),
    ])
    func retiredNamesResolveToTheirRuntimeWithAWarning(_ name: String, _ runtime: JobImage.Runtime) throws {
        let image = try catalogue.resolve(name)
        #expect(image.runtime == runtime)
        let warning = try #require(image.retirementWarning)
        #expect(warning.contains("retired"))
        #expect(warning.contains(name))
    }

    @Test func aToolsOwnImageIsReadAsBuiltAndAMalformedOneRefused() throws {
        // Whether the tool has it is the monitor's to say: the catalogue reads the name.
        let image = try catalogue.resolve("tool-mybot/worker:latest")
        #expect(image.built == (try BuiltImageName(parsing: "tool-mybot/worker:latest")))
        #expect(image.retirementWarning == nil)
        #expect {
            try catalogue.resolve("tool-mybot/worker:newest")
        } throws: { error in
            "\(error)".contains("neither 'latest' nor the number of a build")
        }
    }

    @Test func anUnknownImageListsTheValidOnes() throws {
        #expect {
            try catalogue.resolve("python2")
        } throws: { error in
            let message = "\(error)"
            return message.contains("unknown image 'python2'") && message.contains("bookworm") && message.contains("php8.2")
                && (error as? KilnError)?.context["field"] == "image"
        }
    }
}

@Suite struct JobQuotaTests {
    func job(_ name: String, continuous: Bool = false, mem: String? = nil, cpu: String? = nil, replicas: Int? = nil) throws -> JobSpec {
        JobSpec(
            name: name, command: "true", image: "bookworm", continuous: continuous, memory: try mem.map { try MemorySize(parsing: $0) },
            cpu: try cpu.map { try CPUQuantity(parsing: $0) }, replicas: replicas)
    }

    @Test func withinTheQuotaPasses() throws {
        try JobQuota().check([try job("a"), try job("b", continuous: true, mem: "1Gi", cpu: "1")])
    }

    @Test func eachLimitRefusesWithItsField() throws {
        let quota = JobQuota(jobs: 2, continuousJobs: 1, continuousMemory: MemorySize(bytes: 1 << 30))
        func field(_ specs: [JobSpec]) -> String? {
            do {
                try quota.check(specs)
                return nil
            } catch {
                #expect(error.code == .quotaExceeded)
                return error.context["field"]
            }
        }
        #expect(field([try job("a"), try job("b"), try job("c")]) == "jobs")
        #expect(field([try job("a", continuous: true), try job("b", continuous: true)]) == "continuous")
        #expect(field([try job("a", mem: "7Gi")]) == "mem")
        #expect(field([try job("a", cpu: "4")]) == "cpu")
        // Replicas count: two of 768Mi pass the per-job limit and not the total.
        #expect(field([try job("a", continuous: true, mem: "768Mi", replicas: 2)]) == "mem")
    }

    @Test func hostileTotalsAreRefusedNotTrapped() {
        // Made directly, past every check a request goes through: the sums must still not trap.
        let huge = JobSpec(
            name: "a", command: "true", image: "bookworm", continuous: true, memory: MemorySize(bytes: .max),
            cpu: CPUQuantity(millicores: .max), replicas: .max)
        let negative = JobSpec(name: "b", command: "true", image: "bookworm", continuous: true, memory: MemorySize(bytes: .min), replicas: 16)
        let usage = JobQuota.Usage([huge, huge, negative])
        #expect(usage.continuousMemory == MemorySize(bytes: .max))
        #expect(usage.continuousCPU == CPUQuantity(millicores: .max))
        #expect(throws: KilnError.self) { try JobQuota(memoryPerJob: MemorySize(bytes: .max), cpuPerJob: CPUQuantity(millicores: .max)).check([huge, huge]) }
    }

    @Test func theWebserviceSharesTheRunningTotals() throws {
        let quota = JobQuota(continuousMemory: MemorySize(bytes: 2 << 30))
        let web = try WebserviceSpec(type: .python311, replicas: 2, memory: MemorySize(bytes: 768 << 20))
        let job = try job("a", continuous: true, mem: "512Mi")
        try quota.check([job], webservice: web)
        let bigger = try WebserviceSpec(type: .python311, replicas: 3, memory: MemorySize(bytes: 768 << 20))
        #expect {
            try quota.check([job], webservice: bigger)
        } throws: { error in
            let error = error as? KilnError
            return error?.context["field"] == "mem" && error?.message.contains("webservice 2304Mi") == true
        }
        let usage = JobQuota.Usage([job], webservice: web)
        #expect(usage.runningMemory == MemorySize(bytes: 2048 << 20))
        #expect(usage.webserviceCPU == CPUQuantity(millicores: 1000))
    }

    @Test func usageCountsDefaultsForJobsThatNameNone() throws {
        let usage = JobQuota.Usage([try job("a", continuous: true, replicas: 2), try job("b")])
        #expect(usage.jobs == 2)
        #expect(usage.continuousJobs == 1)
        #expect(usage.continuousMemory == MemorySize(bytes: 1 << 30))
        #expect(usage.continuousCPU == CPUQuantity(millicores: 1000))
    }
}

@Suite struct JobLoadPlanTests {
    func job(_ name: String, _ command: String = "true") -> JobSpec { JobSpec(name: name, command: command, image: "bookworm") }

    @Test func newChangedRemovedAndUnchangedJobsAreTold() {
        let plan = JobLoadPlan(current: [job("keep"), job("edit"), job("gone")], wanted: [job("keep"), job("edit", "false"), job("new")])
        #expect(plan.created == ["new"])
        #expect(plan.changed == ["edit"])
        #expect(plan.deleted == ["gone"])
        #expect(plan.unchanged == ["keep"])
        #expect(!plan.isEmpty)
    }

    @Test func onlyOneJobIsTouchedWhenOneIsNamed() {
        let current = [job("a"), job("b")]
        #expect(JobLoadPlan(current: current, wanted: [job("a", "x")], only: "a").changed == ["a"])
        let removing = JobLoadPlan(current: current, wanted: [job("a")], only: "b")
        #expect(removing.deleted == ["b"])
        #expect(removing.changed.isEmpty && removing.created.isEmpty)
        #expect(JobLoadPlan(current: current, wanted: [job("c")], only: "a").deleted == ["a"])
    }
}

@Suite struct JobStatusTests {
    let tool = try! ToolName("bot")

    func run(_ phase: JobRun.Phase, _ result: JobRunLifecycle.Outcome.Result? = nil) -> JobRun {
        var run = JobRun(id: 1, tool: tool, job: "j", trigger: .run, phase: phase, attempt: 1, queuedAt: 0)
        run.outcome = result.map { .init(result: $0, status: $0 == .succeeded ? .exited(code: 0) : .exited(code: 2), attempts: 1) }
        return run
    }

    @Test func aOneOffSaysWhereItsLatestRunIs() {
        let record = JobRecord(tool: tool, spec: JobSpec(name: "j", command: "true", image: "bookworm"), declaredAt: 0)
        func status(_ runs: [JobRun]) -> String {
            JobStatus(record: record, home: "/h", runs: runs, replicaStates: [], address: nil).status
        }
        #expect(status([]) == "Pending")
        #expect(status([run(.running)]) == "Running")
        #expect(status([run(.finished, .succeeded)]) == "Completed")
        #expect(status([run(.finished, .failed)]) == "Failed")
        #expect(status([run(.finished, .timedOut)]) == "Timed out")
    }

    @Test func aScheduleSaysItsLastAndNextTimes() {
        let record = JobRecord(
            tool: tool, spec: JobSpec(name: "j", command: "true", image: "bookworm", schedule: "*/5 * * * *"), declaredAt: 0,
            lastTick: 600)
        let waiting = JobStatus(record: record, home: "/h", runs: [], replicaStates: [], address: nil)
        #expect(waiting.status == "Waiting for scheduled time")
        #expect(waiting.nextRun == 900)
        var finished = run(.finished, .succeeded)
        finished.tick = 600
        let last = JobStatus(record: record, home: "/h", runs: [finished], replicaStates: [], address: nil)
        #expect(last.status == "Last schedule time: 1970-01-01T00:10:00Z")
        #expect(last.hints.contains("Next run at 1970-01-01T00:15:00Z"))
    }

    @Test func aScheduleIsReadInTheJobsTimeZone() throws {
        // 2026-11-25 00:00 UTC; 09:00 in Berlin is 08:00 UTC in winter.
        var spec = JobSpec(name: "j", command: "true", image: "bookworm", schedule: "0 9 * * *", timeZone: "Europe/Berlin")
        try spec.validate()
        let record = JobRecord(tool: tool, spec: spec, declaredAt: 1_795_564_800)
        let status = JobStatus(record: record, home: "/h", runs: [], replicaStates: [], address: nil)
        #expect(abs((status.nextRun ?? 0) - (1_795_564_800 + 8 * 3600)) < 0.001)
        #expect(status.timeZone == "Europe/Berlin")
        spec.timeZone = "Mars/Olympus"
        #expect(throws: KilnError.self) { try spec.validate() }
        spec.timeZone = "UTC"
        spec.schedule = nil
        #expect(throws: KilnError.self) { try spec.validate() }
    }

    @Test func logPathsFollowToolforgeInsideTheHome() throws {
        let tool = try ToolName("bot")
        var spec = JobSpec(name: "j", command: "true", image: "bookworm")
        #expect(try JobLogPaths(spec: spec, tool: tool, home: "/h").outputPath == "/h/j.out")
        #expect(try JobLogPaths(spec: spec, tool: tool, home: "/h").errorPath == "/h/j.err")
        spec.filelogStdout = "logs/x.log"
        spec.filelogStderr = "/data/project/bot/logs/y.log"
        #expect(try JobLogPaths(spec: spec, tool: tool, home: "/h").outputPath == "/h/logs/x.log")
        #expect(try JobLogPaths(spec: spec, tool: tool, home: "/h").errorPath == "/h/logs/y.log")
        spec.filelogStderr = "/h/./a/../b.log"
        #expect(try JobLogPaths(spec: spec, tool: tool, home: "/h").errorPath == "/h/b.log")
        spec = JobSpec(name: "j", command: "true", image: "bookworm", filelog: false)
        #expect(try JobLogPaths(spec: spec, tool: tool, home: "/h").output == nil)
    }

    @Test(arguments: [
        ("filelog-stdout", "/etc/passwd"), ("filelog-stdout", "../other/x.out"), ("filelog-stderr", "logs/../../x"),
        ("filelog-stderr", "/data/project/other/x.err"), ("filelog-stdout", "/h2/x"), ("filelog-stdout", "~"), ("filelog-stderr", "/h"),
    ])
    func aLogPathOutsideTheHomeIsRefusedNamingItsField(field: String, path: String) throws {
        var spec = JobSpec(name: "j", command: "true", image: "bookworm")
        if field == "filelog-stdout" { spec.filelogStdout = path } else { spec.filelogStderr = path }
        let error = #expect(throws: KilnError.self) { try JobLogPaths(spec: spec, tool: try ToolName("bot"), home: "/h") }
        #expect(error?.context["field"] == field)
        #expect(error?.message.contains(path) == true)
    }

    @Test func aContinuousJobsAddressIsItsOwnAndStable() throws {
        let first = JobAddress.host(tool: tool, job: "api")
        #expect(first == JobAddress.host(tool: tool, job: "api"))
        #expect(first != JobAddress.host(tool: tool, job: "api2"))
        #expect(first.hasPrefix("127."))
        #expect(!first.hasPrefix("127.0."))
    }
}
