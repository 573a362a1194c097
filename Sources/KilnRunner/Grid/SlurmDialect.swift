import Foundation
import KilnCore
import Synchronization

/// Slurm: `sbatch --parsable` (the wrapper is the batch script; Slurm keeps its copy), `squeue`
/// in a fixed format, `sacct` when accounting runs (else `scontrol show job` while the
/// controller still holds the job), `scancel`.
final class SlurmDialect: GridDialect {
    let name = "slurm"
    /// Whether `sacct` answers; nil until asked (a grid without accounting says so once).
    private let accountingRuns = Mutex<Bool?>(nil)

    func submitCommand(_ submission: JobSubmission, name: GridJobName, wrapper: String, configuration: GridConfiguration) -> GridCommand {
        // --export=NONE: the job gets none of sbatch's environment (the wrapper reads the job's);
        // --no-requeue: never run twice. The grid's own streams go nowhere: the wrapper appends
        // the job's to its log files, so no path of the tool's is interpreted (`%j`).
        var arguments = [
            "--parsable", "--job-name=\(name)", "--output=/dev/null", "--error=/dev/null", "--chdir=/",
            "--export=NONE", "--no-requeue",
            "--cpus-per-task=\(Self.wholeUnits(Int64(submission.cpu.millicores), of: 1000))",
        ]
        if submission.memory.bytes > 0 { arguments.append("--mem=\(Self.wholeUnits(submission.memory.bytes, of: 1 << 20))M") }
        if let timeout = submission.timeout {
            let seconds = Int64(max(timeout, 1)) + configuration.timeLimitMargin.components.seconds
            arguments.append("--time=\(Self.wholeUnits(seconds, of: 60))")
        }
        if let partition = configuration.queue { arguments.append("--partition=\(partition)") }
        arguments.append(wrapper)
        return GridCommand("sbatch", arguments, as: submission.user)
    }

    /// `123`, or `123;cluster` on a federation.
    func jobID(submitted output: String) -> String? {
        guard let line = output.split(whereSeparator: \.isNewline).last else { return nil }
        let id = line.trimmingCharacters(in: .whitespaces).prefix { $0 != ";" }
        guard !id.isEmpty, id.count <= 20, id.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return String(id)
    }

    var listCommand: GridCommand { GridCommand("squeue", ["-h", "-a", "-t", "all", "-o", SlurmListingParser.format]) }

    func parseListing(_ output: String) throws(KilnError) -> GridQueueListing {
        SlurmListingParser.parse(output)
    }

    func accounting(of jobID: String, memory: MemorySize, client: GridClient) async throws(KilnError) -> ExitStatus? {
        if accountingRuns.withLock({ $0 }) != false {
            let result = try await client.run(
                GridCommand("sacct", ["-X", "-n", "-P", "-j", jobID, "-o", SlurmAccountingParser.sacctFields]))
            if result.succeeded {
                accountingRuns.withLock { $0 = true }
                if let record = SlurmAccountingParser.parseSacct(result.output, jobID: jobID),
                    let status = SlurmAccountingParser.status(record, memory: memory)
                {
                    return status
                }
            } else if result.said.lowercased().contains("accounting storage is disabled") {
                accountingRuns.withLock { $0 = false }
            }
        }
        let shown = try await client.run(GridCommand("scontrol", ["-o", "show", "job", jobID]))
        guard shown.succeeded, let record = SlurmAccountingParser.parseScontrol(shown.output, jobID: jobID) else { return nil }
        return SlurmAccountingParser.status(record, memory: memory)
    }

    func removeBroken(_ jobID: String, as user: UnixIdentity?, client: GridClient) async throws(KilnError) -> String? {
        _ = try await client.run(GridCommand("scancel", [jobID], as: user))
        return nil
    }

    func cancel(
        _ jobID: String, as user: UnixIdentity?, grace: Duration, client: GridClient, state: GridJobState?,
        hasEnded: @escaping @Sendable () async -> Bool
    ) async throws(KilnError) {
        // A job that has not started has no process to signal: it just goes.
        switch state {
        case .pending, .held, .error, .other, nil:
            _ = try await client.run(GridCommand("scancel", [jobID], as: user))
            return
        case .running, .suspended, .ending, .completed, .failed, .cancelled, .timedOut, .outOfMemory, .nodeFailed:
            break
        }
        // --full: every process of the batch step (the wrapper and what it started), not only
        // the script's shell.
        _ = try await client.run(GridCommand("scancel", ["--signal=TERM", "--full", jobID], as: user))
        if await waitForEnd(within: grace, hasEnded) { return }
        _ = try await client.run(GridCommand("scancel", ["--signal=KILL", "--full", jobID], as: user))
        _ = try await client.run(GridCommand("scancel", [jobID], as: user))
    }

    /// Slurm's words for "slurmctld (or munge) cannot be reached".
    func isUnreachable(_ result: GridCommand.Result) -> Bool {
        let said = result.said.lowercased()
        return ["unable to contact slurm controller", "socket timed out", "communication connection failure",
            "zero bytes were transmitted", "connection refused", "munge", "invalid authentication credential",
            "slurm_persist_conn_open", "unable to establish connection"].contains { said.contains($0) }
    }
}
