import Foundation
import KilnCore

/// Son of Grid Engine: `qsub` in binary mode (the wrapper run by `/bin/sh`, no shell of SGE's
/// between), `qstat -xml`, `qacct -j`, `qdel`.
struct GridEngineDialect: GridDialect {
    let name = "gridengine"

    func submitCommand(_ submission: JobSubmission, name: GridJobName, wrapper: String, configuration: GridConfiguration) -> GridCommand {
        // -notify: `qdel` sends the job SIGTERM (grid-up sets NOTIFY_KILL=TERM) and SIGKILL
        // after the queue's notify time. -r n: never run twice. The grid's own streams go
        // nowhere: the wrapper appends the job's to its log files itself, so no path of the
        // tool's is ever interpreted by SGE (`$JOB_ID`, `host:path`).
        var arguments = [
            "-terse", "-b", "y", "-shell", "no", "-notify", "-r", "n", "-N", name.description,
            "-o", "/dev/null", "-j", "y", "-wd", "/",
        ]
        if let queue = configuration.queue { arguments += ["-q", queue] }
        let cores = Self.wholeUnits(Int64(submission.cpu.millicores), of: 1000)
        var resources: [String] = []
        // h_vmem is per slot: a job of N slots may use N times it.
        if submission.memory.bytes > 0 {
            resources.append("h_vmem=\(Self.memory(MemorySize(bytes: Self.wholeUnits(submission.memory.bytes, of: cores))))")
        }
        if let timeout = submission.timeout {
            resources.append("h_rt=\(Self.time(Int64(max(timeout, 1)) + configuration.timeLimitMargin.components.seconds))")
        }
        if !resources.isEmpty { arguments += ["-l", resources.joined(separator: ",")] }
        if cores > 1 { arguments += ["-pe", configuration.parallelEnvironment, String(cores)] }
        arguments += ["/bin/sh", wrapper]
        return GridCommand("qsub", arguments, as: submission.user)
    }

    /// `-terse` says the job number (`123`, or `123.1-10:1` for an array).
    func jobID(submitted output: String) -> String? {
        guard let line = output.split(whereSeparator: \.isNewline).first else { return nil }
        let number = line.trimmingCharacters(in: .whitespaces).prefix { $0 != "." }
        guard !number.isEmpty, number.count <= 20, number.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return String(number)
    }

    var listCommand: GridCommand { GridCommand("qstat", ["-xml", "-u", "*"]) }

    func parseListing(_ output: String) throws(KilnError) -> GridQueueListing {
        try GridEngineListingParser.parse(output)
    }

    func accounting(of jobID: String, memory: MemorySize, client: GridClient) async throws(KilnError) -> ExitStatus? {
        let result = try await client.run(GridCommand("qacct", ["-j", jobID]))
        guard result.succeeded, let record = GridEngineAccountingParser.parse(result.output) else { return nil }
        return GridEngineAccountingParser.status(record, memory: memory)
    }

    /// Queue instances in state `u`: their execution daemon has not been heard for max_unheard.
    /// (SGE's reschedule_unknown ends their jobs, but not always: a job was seen listed running
    /// on a host gone for minutes.)
    var lostHostsCommand: GridCommand? { GridCommand("qselect", ["-qs", "u"]) }

    func parseLostHosts(_ output: String) -> Set<String> {
        Set(output.split(separator: "\n").compactMap { line in
            line.split(separator: "@", maxSplits: 1).dropFirst().first.map { String($0).trimmingCharacters(in: .whitespaces) }
        }.filter { !$0.isEmpty })
    }

    /// Forced (`qdel -f`, as the platform, one of SGE's managers): the host cannot be told, and
    /// when its daemon is back SGE kills what it still runs of a job it no longer has.
    func removeLost(_ jobID: String, client: GridClient) async throws(KilnError) {
        _ = try await client.run(GridCommand("qdel", ["-f", jobID]))
    }

    func removeBroken(_ jobID: String, as user: UnixIdentity?, client: GridClient) async throws(KilnError) -> String? {
        let detail = try? await client.run(GridCommand("qstat", ["-j", jobID]))
        _ = try await client.run(GridCommand("qdel", [jobID], as: user))
        return detail.flatMap { Self.errorReason($0.output) }
    }

    func cancel(
        _ jobID: String, as user: UnixIdentity?, grace: Duration, client: GridClient, state: GridJobState?,
        hasEnded: @escaping @Sendable () async -> Bool
    ) async throws(KilnError) {
        _ = try await client.run(GridCommand("qdel", [jobID], as: user))
        // SIGKILL follows SIGTERM after the queue's notify time, SGE's grace (not this call's).
        if await waitForEnd(within: grace + .seconds(10), hasEnded) { return }
        // Still listed (a host that does not answer): forced, which SGE allows its managers only
        // unless configured otherwise; the job's end then comes as the grid forgets it.
        _ = try await client.run(GridCommand("qdel", ["-f", jobID], as: user))
    }

    /// SGE's words for "the qmaster cannot be reached" (its commlib, on every command).
    func isUnreachable(_ result: GridCommand.Result) -> Bool {
        let said = result.said.lowercased()
        return ["unable to contact qmaster", "unable to send message to qmaster", "commlib error", "can't connect to",
            "cannot connect to", "qmaster not alive", "failed receiving gdi request"].contains { said.contains($0) }
    }

    /// `qstat -j`'s "error reason" line, less its date and ids.
    static func errorReason(_ output: String) -> String? {
        for line in output.split(whereSeparator: \.isNewline) where line.hasPrefix("error reason") {
            let text = line.range(of: "]: ").map { line[$0.upperBound...] } ?? line.drop { $0 != ":" }.dropFirst()
            let reason = text.trimmingCharacters(in: .whitespaces)
            return reason.isEmpty ? nil : String(reason.prefix(500))
        }
        return nil
    }

    /// A memory limit as SGE writes one (`512M`, `1G`; binary units), rounded up to KiB.
    static func memory(_ size: MemorySize) -> String {
        let bytes = size.bytes
        if bytes % (1 << 30) == 0 { return "\(bytes >> 30)G" }
        if bytes % (1 << 20) == 0 { return "\(bytes >> 20)M" }
        return "\(wholeUnits(bytes, of: 1024))K"
    }

    /// Seconds as SGE's `h_rt` (`H:MM:SS`).
    static func time(_ seconds: Int64) -> String {
        String(format: "%lld:%02lld:%02lld", seconds / 3600, (seconds / 60) % 60, seconds % 60)
    }
}
