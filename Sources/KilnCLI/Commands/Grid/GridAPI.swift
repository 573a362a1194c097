import Foundation
import KilnAPI
import KilnCore
import KilnFormats

/// The jobs API as the grid's commands use it: a job of a name, placed as jsub placed it.
struct GridAPI {
    let client: APIClient
    /// `/v1/tools/TOOL`.
    let base: String

    /// How many jobs of one name run side by side without `-once` (`NAME`, `NAME-2` …).
    static let maximumSiblings = 100

    func job(_ name: String) -> String { base + "/jobs/" + PathComponent.escape(name) }

    /// The job of that name, or nil when there is none.
    func status(of name: String) async throws -> JobStatus? {
        do {
            let response: JobResponse = try await client.get(job(name))
            return response.job
        } catch let CLIError.server(status, _, _) where status == 404 {
            return nil
        }
    }

    /// Declares and starts `spec`, as jsub submitted a job of its name:
    /// - none of that name: created;
    /// - one that runs (or waits to): with `-once` refused, as jsub refused it; without, the grid
    ///   ran a second one beside it, so this one is `NAME-2` (the first free of `NAME-2`, `NAME-3` …);
    /// - one that ended, of the same kind: run again (`restart`, or the new declaration loaded),
    ///   so its runs stay one history;
    /// - a scheduled job (or one of the other kind) declared by other means: left alone.
    func place(_ spec: JobSpec, once: Bool) async throws -> JobStatus {
        var number = 1
        var races = 0
        while number <= Self.maximumSiblings {
            var wanted = spec
            wanted.name = GridJobName.numbered(spec.name, number)
            guard let existing = try await status(of: wanted.name) else {
                do {
                    let response: JobResponse = try await client.post(base + "/jobs", wanted)
                    return response.job
                } catch let CLIError.server(status, _, _) where status == 409 && races < 5 {
                    races += 1  // another jsub made it first: look again
                    continue
                }
            }
            let sameKind = existing.spec.kind == wanted.kind
            if existing.isActive || !sameKind {
                guard !once else {
                    if existing.isActive { throw CLIError.user("there is a job named '\(wanted.name)' already active") }
                    throw CLIError.user(
                        "a \(existing.spec.kind.rawValue) job named '\(wanted.name)' is declared, not by jsub: it is left alone; give this one another name with -N")
                }
                number += 1
                continue
            }
            if existing.spec == wanted {
                let _: JobResponse = try await client.post(job(wanted.name) + "/restart", APIClient.Empty())
            } else {
                let request = LoadJobsRequest(
                    text: JobsFile.dump([wanted]), fileName: "jsub", job: wanted.name, dryRun: false, strict: true)
                let _: JobLoadResponse = try await client.post(base + "/jobs/load", request)
            }
            guard let status = try await status(of: wanted.name) else {
                throw CLIError.user("job '\(wanted.name)' was deleted as it was submitted")
            }
            return status
        }
        throw CLIError.user("\(Self.maximumSiblings) jobs named '\(spec.name)' run already")
    }

    /// The number qsub would have said: the job's latest run. A continuous job's first run starts
    /// a moment after it is declared; it is waited for up to `waiting`.
    func number(of status: JobStatus, waiting: Duration) async throws -> Int64? {
        if let run = status.runs.first { return run.id }
        let deadline = ContinuousClock.now + waiting
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            if let run = try await self.status(of: status.name)?.runs.first { return run.id }
        }
        return nil
    }

    /// Waits for run `id` of `job` to end (`-sync y`): asked again every 30 s at most.
    func waitForEnd(of id: Int64, job name: String) async throws -> JobRun {
        while true {
            let response: JobRunResponse = try await client.get(job(name) + "/runs/\(id)?wait=30")
            if response.run.isFinished { return response.run }
        }
    }
}

extension JobStatus {
    /// Whether it runs or waits to, as the grid's `job NAME` said: a one-off or scheduled job's
    /// latest run not ended (a one-off without a run yet waits for one); a continuous job that
    /// has not given up.
    var isActive: Bool {
        switch spec.kind {
        case .normal: runs.first.map { !$0.isFinished } ?? true
        case .schedule: runs.first.map { !$0.isFinished } ?? false
        case .continuous: !replicaStates.contains { $0.phase == .failed }
        }
    }
}
