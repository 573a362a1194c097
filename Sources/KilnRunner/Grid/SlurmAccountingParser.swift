import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// How a finished Slurm job ended, from `sacct -X -n -P -o JobID,State,ExitCode,NodeList`
/// (when accounting runs) or from `scontrol -o show job` (while the controller still holds the
/// job, `MinJobAge`). Slurm's `ExitCode` is `CODE:SIGNAL`.
enum SlurmAccountingParser {
    struct Record: Sendable, Hashable {
        var state: GridJobState
        var exitCode: Int32
        var signal: Int32
        var host: String?
    }

    static let sacctFields = "JobID,State,ExitCode,NodeList"

    /// The line of `sacct -P` whose id is `jobID` (steps such as `123.batch` are other lines).
    static func parseSacct(_ output: String, jobID: String) -> Record? {
        for line in output.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3, fields[0] == jobID, let (code, signal) = exitCode(fields[2]) else { continue }
            return Record(
                state: SlurmListingParser.state(fields[1], reason: nil), exitCode: code, signal: signal,
                host: fields.count > 3 ? SlurmListingParser.nonEmpty(fields[3]) : nil)
        }
        return nil
    }

    /// `scontrol -o show job ID`: `KEY=VALUE` words on one line.
    static func parseScontrol(_ output: String, jobID: String) -> Record? {
        var fields: [String: String] = [:]
        for word in output.split(whereSeparator: { $0 == " " || $0.isNewline }) {
            guard let equals = word.firstIndex(of: "=") else { continue }
            let key = String(word[..<equals])
            // The first of a key counts: a later `JobState=` could only be inside a value.
            if fields[key] == nil { fields[key] = String(word[word.index(after: equals)...]) }
        }
        guard fields["JobId"] == jobID, let state = fields["JobState"], let (code, signal) = fields["ExitCode"].flatMap(exitCode) else {
            return nil
        }
        return Record(
            state: SlurmListingParser.state(state, reason: fields["Reason"]), exitCode: code, signal: signal,
            host: fields["NodeList"].flatMap(SlurmListingParser.nonEmpty))
    }

    /// How the job ended; nil while it has not.
    static func status(_ record: Record, memory: MemorySize) -> ExitStatus? {
        switch record.state {
        case .pending, .held, .running, .suspended, .ending, .error, .other:
            return nil
        case .outOfMemory:
            return .outOfMemory(limit: memory)
        case .nodeFailed:
            // Its host went away under it: how the command ended is not known.
            return .unknown
        case .completed, .failed, .cancelled, .timedOut:
            if record.signal > 0 { return .signaled(signal: record.signal) }
            if record.exitCode > 128 && record.exitCode < 160 { return .signaled(signal: record.exitCode - 128) }
            if record.exitCode == 0, case .timedOut = record.state { return .signaled(signal: SIGKILL) }
            if record.exitCode == 0, case .cancelled = record.state { return .signaled(signal: SIGTERM) }
            return .exited(code: record.exitCode)
        }
    }

    /// `0:0`, `3:0`, `0:9` → (code, signal).
    static func exitCode(_ text: String) -> (Int32, Int32)? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let code = Int32(parts[0]), let signal = Int32(parts[1]), (0...255).contains(code), (0...127).contains(signal)
        else { return nil }
        return (code, signal)
    }
}
