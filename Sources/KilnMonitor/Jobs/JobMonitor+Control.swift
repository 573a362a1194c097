import Foundation
import KilnBuilds
import KilnCore
import KilnRunner
import KilnStore

extension JobMonitor: JobControl {
    public func create(tool: ToolName, spec: JobSpec) async throws(KilnError) -> (status: JobStatus, warnings: [String]) {
        await ready()
        let account = try await account(tool)
        let (image, warnings) = try checkDeclaration(spec, tool: tool)
        let record = JobRecord(tool: tool, spec: spec, declaredAt: clock.now().timeIntervalSince1970)
        let quota = try await quota(of: tool)
        try await store.createJob(record) { load throws(KilnError) in try quota.check(load.jobs, webservice: load.webservice) }
        try await activate(record, account: account, image: image)
        return (try await show(tool: tool, job: spec.name), warnings)
    }

    public func list(tool: ToolName) async throws(KilnError) -> [JobStatus] {
        var statuses: [JobStatus] = []
        for record in try await store.jobs(of: tool) { statuses.append(try await status(of: record, runs: 1)) }
        return statuses
    }

    public func show(tool: ToolName, job: String) async throws(KilnError) -> JobStatus {
        try await status(of: try await record(tool, job), runs: 10)
    }

    public func delete(tool: ToolName, job: String) async throws(KilnError) {
        await ready()
        let key = JobKey(tool: tool, job: try await record(tool, job).name)
        await deactivate(key)
        try await store.removeJob(job, of: tool)
        logger.notice("job deleted", metadata: ["job": "\(key)"])
    }

    public func flush(tool: ToolName) async throws(KilnError) -> [String] {
        let names = try await store.jobs(of: tool).map(\.name)
        for name in names { try await delete(tool: tool, job: name) }
        return names
    }

    public func restart(tool: ToolName, job: String) async throws(KilnError) -> JobStatus {
        await ready()
        let record = try await record(tool, job)
        let key = JobKey(tool: tool, job: job)
        await cancelRuns(of: key)
        if record.spec.continuous {
            await stopReplicas(of: key)
            // Started by hand: a replica that had failed starts afresh.
            try await store.removeJobReplicas(of: job, tool: tool)
            if let launch = launches[key] { await startReplicas(launch) }
        } else {
            let run = try await store.createRun(
                JobRun(tool: tool, job: job, trigger: .restart, queuedAt: clock.now().timeIntervalSince1970))
            startRunDriver(run)
        }
        return try await show(tool: tool, job: job)
    }

    public func load(tool: ToolName, specs: [JobSpec], only: String?, dryRun: Bool) async throws(KilnError) -> JobLoadPlan {
        await ready()
        let account = try await account(tool)
        var warnings: [String] = []
        var images: [String: JobImage] = [:]
        for spec in specs where only == nil || spec.name == only {
            let (image, imageWarnings) = try checkDeclaration(spec, tool: tool)
            images[spec.name] = image
            warnings += imageWarnings
        }
        let current = try await store.jobs(of: tool).map(\.spec)
        var plan = JobLoadPlan(current: current, wanted: specs, only: only)
        if let only, !specs.contains(where: { $0.name == only }), !current.contains(where: { $0.name == only }) {
            throw KilnError(.notFound, "job '\(only)' is neither in the file nor declared", context: ["job": only])
        }
        plan.warnings = warnings
        let upserted = specs.filter { (plan.created + plan.changed).contains($0.name) }
        let webservice = try await store.webservice(of: tool)?.spec
        if dryRun {
            // Said as a real load would say it; a real one checks inside its store transaction.
            try await quota(of: tool).check(
                current.filter { !Set(plan.deleted + plan.changed).contains($0.name) } + upserted, webservice: webservice)
            return plan
        }
        guard !plan.isEmpty else { return plan }
        // Stored first, all together: a failure here leaves every job as it was, running.
        let quota = try await quota(of: tool)
        try await store.applyJobChanges(.init(upserted: upserted, deleted: plan.deleted), of: tool, at: clock.now().timeIntervalSince1970) {
            load throws(KilnError) in try quota.check(load.jobs, webservice: load.webservice)
        }
        for name in plan.changed + plan.deleted { await deactivate(JobKey(tool: tool, job: name)) }
        for spec in upserted {
            guard let record = try await store.job(spec.name, of: tool), let image = images[spec.name] else { continue }
            try await activate(record, account: account, image: image)
        }
        logger.notice(
            "jobs loaded", metadata: ["tool": "\(tool)", "created": "\(plan.created)", "changed": "\(plan.changed)", "deleted": "\(plan.deleted)"])
        return plan
    }

    public func waitForRun(tool: ToolName, job: String, runID: Int64, timeout: Duration) async throws(KilnError) -> JobRun {
        let deadline = ContinuousClock.now + timeout
        while true {
            guard let run = try await store.run(id: runID), run.tool == tool, run.job == job else {
                throw KilnError(.notFound, "job '\(job)' has no run \(runID)", context: ["job": job])
            }
            if run.isFinished || ContinuousClock.now >= deadline { return run }
            try? await Task.sleep(for: .milliseconds(50))
            if Task.isCancelled { return run }
        }
    }

    /// The tool's quota: its own where an operator gave it one, else the platform's.
    func quota(of tool: ToolName) async throws(KilnError) -> JobQuota {
        try await store.jobQuota(of: tool) ?? configuration.quota
    }

    public func quota(tool: ToolName) async throws(KilnError) -> JobQuotaReport {
        _ = try await account(tool)
        return JobQuotaReport(
            quota: try await quota(of: tool),
            usage: .init(try await store.jobs(of: tool).map(\.spec), webservice: try await store.webservice(of: tool)?.spec))
    }

    public nonisolated func images() -> [JobImageReport] {
        configuration.catalogue.images.map { image in
            let found = configuration.runtimes.find(image.runtime)
            return JobImageReport(
                shortName: image.shortName, containerImage: image.containerImage, retired: image.retired,
                hostRuntime: found.map { [$0.path, $0.version].compactMap { $0 }.joined(separator: ": ") })
        }
    }

    public func logPaths(tool: ToolName, job: String) async throws(KilnError) -> JobLogPaths {
        try JobLogPaths(spec: try await record(tool, job).spec, tool: tool, home: homeOf(tool))
    }

    // MARK: Helpers

    /// Checks a declaration before anything is stored: its fields, its log files (inside the
    /// tool's home), its image, its schedule.
    nonisolated func checkDeclaration(_ spec: JobSpec, tool: ToolName) throws(KilnError) -> (JobImage, [String]) {
        try spec.validate()
        do {
            _ = try JobLogPaths(spec: spec, tool: tool, home: homeOf(tool))
        } catch {
            var error = error
            error.context["job"] = spec.name
            throw error
        }
        let image: JobImage
        do throws(KilnError) {
            image = try configuration.catalogue.resolve(spec.image)
            if let built = image.built {
                guard let images = configuration.images else {
                    throw KilnError(
                        .badRequest, "image '\(built)' is built by the tool itself: this platform has no build service",
                        context: ["field": "image", "value": built.description])
                }
                _ = try images.manifest(of: built, for: tool)
            }
        } catch {
            var error = error
            error.context["job"] = spec.name
            throw error
        }
        return (image, image.retirementWarning.map { ["job '\(spec.name)': \($0)"] } ?? [])
    }

    func account(_ tool: ToolName) async throws(KilnError) -> Tool {
        guard let account = try await store.tool(named: tool) else {
            throw KilnError(.notFound, "no tool '\(tool)'", context: ["tool": tool.rawValue])
        }
        return account
    }

    func record(_ tool: ToolName, _ job: String) async throws(KilnError) -> JobRecord {
        guard let record = try await store.job(job, of: tool) else {
            throw KilnError(.notFound, "Job '\(job)' does not exist", context: ["tool": tool.rawValue, "job": job])
        }
        return record
    }

    func status(of record: JobRecord, runs count: Int) async throws(KilnError) -> JobStatus {
        let runs = try await store.runs(of: record.name, tool: record.tool, limit: count)
        let replicas = record.spec.continuous ? try await store.jobReplicas(of: record.name, tool: record.tool) : []
        var status = JobStatus(
            record: record, home: homeOf(record.tool), runs: runs, replicaStates: replicas,
            address: address(of: record.spec, tool: record.tool))
        // On a grid: where its unfinished runs are, as the grid says now (its job ids, hosts).
        for run in runs where !run.isFinished {
            guard let handle = run.handle, let placement = await backend.placement(of: handle) else { continue }
            status.gridPlacements.append(placement)
        }
        return status
    }

    /// Starts a declared job as its kind says.
    func activate(_ record: JobRecord, account: Tool, image: JobImage) async throws(KilnError) {
        let launch = JobLaunch(tool: account, home: homeOf(record.tool), record: record, image: image, schedule: try record.cronSchedule(),
            environments: environments, images: configuration.images)
        launches[launch.key] = launch
        switch record.spec.kind {
        case .schedule:
            if let schedule = launch.schedule {
                schedules[launch.key] = record.ticks(of: schedule)
                wakeScheduler()
            }
        case .normal:
            let run = try await store.createRun(
                JobRun(tool: record.tool, job: record.name, trigger: .run, queuedAt: clock.now().timeIntervalSince1970))
            startRunDriver(run)
        case .continuous:
            await startReplicas(launch)
        }
    }

    /// Stops everything of a job: its runs, its replicas, its schedule.
    func deactivate(_ key: JobKey) async {
        schedules[key] = nil
        await cancelRuns(of: key)
        await stopReplicas(of: key)
        try? await store.removeJobReplicas(of: key.job, tool: key.tool)
        launches[key] = nil
        wakeScheduler()
    }
}
