import Foundation
import KilnCore
import KilnRunner
import KilnStore

#if canImport(Glibc)
import Glibc
#endif

/// `restart`: a rolling replacement (see `WebserviceRollout`). The new generation runs at
/// indices no old replica has, so each has its own record, port (or network), control group unit
/// (`web-INDEX`: no memory limit is shared during the overlap), generated files and route; the old
/// replicas are deregistered and stopped only once every new one serves and is routed, and stay
/// when the new ones do not come up. On a grid each new replica is a new grid job, whose runner
/// registers it (the incoming drivers answer registrations as the webservice's own do), with
/// the grid's queueing allowed for.
extension WebserviceMonitor {
    /// Carries out the rollout `serial` (already the tool's, in `rollouts`); returns the status
    /// once it ended, replaced or abandoned.
    func rollOut(_ webservice: WebserviceRecord, serial: Int) async throws(KilnError) -> WebserviceStatus {
        let tool = webservice.tool
        let spec = webservice.spec
        guard let account = try await store.tool(named: tool) else {
            throw KilnError(.notFound, "no tool '\(tool)'", context: ["tool": tool.rawValue])
        }
        // Checked as a start checks it. The two generations run together for a moment beyond
        // the quota: the tool's load as declared does not change.
        let (quota, totals) = (configuration.quota, try await store.jobQuota(of: tool) ?? configuration.totals)
        try quota.check(spec, jobs: try await store.jobs(of: tool).map(\.spec), totals: totals)
        // A new plan: a newly built image, the tool's files as they are now. One that cannot
        // run is refused here, before anything of the old generation is touched.
        let launch = launchPlan(for: account, spec: spec)
        try launch.check()

        let oldRecords = try await store.replicas(of: tool)
        let old = drivers[tool] ?? []
        let taken = Set(oldRecords.map(\.index)).union(old.map(\.index))
        let indices = WebserviceRollout.freshIndices(count: spec.replicas, avoiding: taken)
        var records: [ReplicaRecord] = []
        var ports = Set(oldRecords.map(\.port))
        for index in indices {
            // A grid replica's port is its runner's pick on its host, said when it registers.
            var port = 0
            if grid == nil {
                port = try PortAllocator.freeLoopbackPort()
                for _ in 0..<8 where ports.contains(port) { port = try PortAllocator.freeLoopbackPort() }
                ports.insert(port)
            }
            records.append(ReplicaRecord(tool: tool, index: index, port: port))
        }
        let incoming = records.map { driver(of: $0, launch: launch).any }
        // On a grid the new replicas' jobs may wait in its queue first, as long as a start allows.
        let allowance = configuration.startTimeout + .seconds(2) + (grid?.queueAllowance ?? .zero)
        // No await since `old` was read: the generations are what they are now.
        var action = advance(tool, serial) { rollout in
            rollout.prepared(old: taken, new: indices, deadline: .now + allowance)
        }
        if rollouts[tool]?.serial == serial { rollouts[tool]?.incoming = incoming }
        var failure: String?
        while true {
            guard rollouts[tool]?.serial == serial else {
                // A stop, a start or the shutdown stopped the new replicas (and maybe the old).
                logger.notice("webservice restart interrupted", metadata: ["tool": "\(tool)"])
                throw KilnError(
                    .conflict, "the restart of the webservice of '\(tool)' was interrupted: it was stopped or started meanwhile",
                    context: ["tool": tool.rawValue])
            }
            switch action {
            case .startNew:
                do {
                    for record in records {
                        guard rollouts[tool]?.serial == serial else { break }
                        try await store.saveReplica(record)
                    }
                } catch {
                    try? await store.forgetReplicas(of: tool, indices: Set(indices))
                    rollouts[tool] = nil
                    throw error
                }
                guard rollouts[tool]?.serial == serial else { continue }
                logger.notice(
                    "webservice restarting: new replicas start beside the old",
                    metadata: ["tool": "\(tool)", "old": "\(taken.sorted())", "new": "\(indices)"])
                // A driver stopped meanwhile (the rollout interrupted) does not begin.
                for driver in incoming { await driver.beginNew() }
                action = .wait
            case .none:
                rollouts[tool] = nil
                if let failure {
                    restartFailures[tool] = failure
                    logger.warning("webservice restart abandoned; the old replicas stay", metadata: ["tool": "\(tool)", "reason": "\(failure)"])
                } else {
                    logger.notice("webservice restarted", metadata: ["tool": "\(tool)", "replicas": "\(indices)"])
                }
                return try await status(tool: tool)
            case .wait:
                try? await Task.sleep(for: .milliseconds(50))
                var records: [ReplicaRecord] = []
                for driver in incoming { records.append(await driver.current) }
                action = advance(tool, serial) { $0.observed(records, at: .now) }
            case .retire(let oldIndices):
                // Every new replica serves and is routed: they are the webservice now.
                drivers[tool] = incoming
                rollouts[tool]?.incoming = []
                restartFailures[tool] = nil
                onFailureChange(tool, nil)
                writeManifest(spec, tool: tool, owner: account.unixUser)
                logger.notice("new replicas serve; retiring the old", metadata: ["tool": "\(tool)", "old": "\(oldIndices.sorted())"])
                await retire(old)
                action = advance(tool, serial) { $0.oldRetired() }
            case .stopNew(_, let reason):
                await withTaskGroup(of: Void.self) { group in
                    for driver in incoming { group.addTask { await driver.stop() } }
                }
                failure = "its new replicas did not come up (\(reason)); the replicas from before the restart still run"
                action = advance(tool, serial) { $0.newStopped() }
            case .forget(let gone):
                do {
                    try await store.forgetReplicas(of: tool, indices: gone)
                } catch {
                    logger.error("cannot forget the replaced replicas' records", metadata: ["tool": "\(tool)", "error": "\(error)"])
                }
                action = .none
            }
        }
    }

    /// Feeds `event` to the tool's rollout while it is `serial`'s; when it was interrupted
    /// meanwhile, nothing (the loop then sees it gone).
    private func advance(
        _ tool: ToolName, _ serial: Int, _ event: (inout WebserviceRollout) -> WebserviceRollout.Action
    ) -> WebserviceRollout.Action {
        guard var rollout = rollouts[tool], rollout.serial == serial else { return .none }
        let action = event(&rollout.machine)
        rollouts[tool] = rollout
        return action
    }

    /// Takes the old generation out of the proxy and stops it, each replica after its drain.
    private func retire(_ old: [any WebserviceReplicaDriver]) async {
        let drain = configuration.drainPeriod
        await withTaskGroup(of: Void.self) { group in
            for driver in old { group.addTask { await driver.stop(draining: drain) } }
        }
    }

    /// At start-up, more records than replicas wanted: the platform went down in the middle of a
    /// rolling restart. The replicas kept are those that served; the others' processes (if they
    /// still run) and control groups go, and their records are forgotten. Their routes go at the
    /// next reconcile, no live replica backing them.
    func dropLeftovers(_ records: [ReplicaRecord], of webservice: WebserviceRecord) async -> [ReplicaRecord] {
        let (kept, dropped) = WebserviceRollout.leftovers(records, wanted: webservice.spec.replicas)
        let account = try? await store.tool(named: webservice.tool)
        for record in dropped {
            logger.notice(
                "a replica left over from an unfinished restart is stopped",
                metadata: ["tool": "\(webservice.tool)", "replica": "\(record.index)", "pid": "\(record.pid.map(String.init) ?? "-")"])
            if let pid = record.pid {
                if let start = record.processStart, ProcessInspector.isAlive(pid: pid, start: start) {
                    await ProcessInspector.stopGroup(pid, start: start, grace: .seconds(3))
                } else {
                    ProcessInspector.signalGroup(pid, SIGKILL)
                }
            }
            if let grid {
                // Its runner would stop once refused, at its next heartbeat; the grid stops it now.
                if let handle = record.gridJob { await grid.backend.cancel(handle, grace: GridReplicaDriver.stopGrace) }
            } else if let account {
                await launchPlan(for: account, spec: webservice.spec).limits(replica: record.index).removeGroups()
            }
        }
        do {
            try await store.forgetReplicas(of: webservice.tool, indices: Set(dropped.map(\.index)))
        } catch {
            logger.error("cannot forget left-over replicas", metadata: ["tool": "\(webservice.tool)", "error": "\(error)"])
        }
        return kept
    }
}
