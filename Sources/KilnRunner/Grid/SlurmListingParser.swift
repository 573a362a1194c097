import Foundation
import KilnCore

/// Reads `squeue -h -a -t all -o %i|%T|%r|%N|%P|%u|%j`: one job a line (an array's pending
/// tasks on one line, `123_[4-10]`), its state in Slurm's words, its reason, its nodes. The name
/// is the user's and may hold `|`: it comes last and keeps the rest of the line.
enum SlurmListingParser {
    static let format = "%i|%T|%r|%N|%P|%u|%j"

    static func parse(_ output: String) -> GridQueueListing {
        var entries: [GridJobEntry] = []
        for line in output.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "|", maxSplits: 6, omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 7, !fields[0].isEmpty, !fields[1].isEmpty else { continue }
            let (jobID, task) = split(fields[0])
            // Slurm's ids are numbers: a line whose is not is no job's.
            guard !jobID.isEmpty, jobID.count <= 20, jobID.allSatisfy({ $0.isASCII && $0.isNumber }) else { continue }
            entries.append(
                GridJobEntry(
                    jobID: jobID, state: state(fields[1], reason: fields[2]), host: nonEmpty(fields[3]), queue: nonEmpty(fields[4]),
                    name: fields[6], owner: nonEmpty(fields[5]), task: task))
        }
        return GridQueueListing(entries)
    }

    /// Slurm's state (and reason) as Kiln's state.
    static func state(_ name: String, reason: String?) -> GridJobState {
        let reason = reason.flatMap(nonEmpty).flatMap { $0 == "None" ? nil : $0 }
        // `CANCELLED by 1000` (sacct): the first word is the state.
        let word = name.split(separator: " ").first.map(String.init) ?? name
        switch word {
        case "PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED":
            if let reason, reason.hasPrefix("JobHeld") || reason == "Dependency" || reason == "BeginTime" { return .held(reason: reason) }
            return .pending(reason: reason)
        case "REQUEUE_HOLD", "RESV_DEL_HOLD": return .held(reason: reason)
        case "RUNNING", "RESIZING", "SIGNALING", "STAGE_OUT": return .running
        case "COMPLETING": return .ending
        case "SUSPENDED", "STOPPED": return .suspended
        case "COMPLETED": return .completed
        case "FAILED", "SPECIAL_EXIT": return .failed(reason: reason)
        case "PREEMPTED": return .failed(reason: reason ?? "preempted")
        case "NODE_FAIL", "BOOT_FAIL": return .nodeFailed
        case "TIMEOUT", "DEADLINE": return .timedOut
        case "OUT_OF_MEMORY": return .outOfMemory
        case "CANCELLED", "REVOKED": return .cancelled
        default: return .other(name)
        }
    }

    /// `123_4` → (`123`, `4`); `123_[5-9]` → (`123`, `[5-9]`); `123` → (`123`, nil).
    static func split(_ id: String) -> (String, String?) {
        guard let underscore = id.firstIndex(of: "_") else { return (id, nil) }
        return (String(id[..<underscore]), String(id[id.index(after: underscore)...]))
    }

    static func nonEmpty(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || trimmed == "(null)" || trimmed == "n/a" ? nil : trimmed
    }
}
