import Foundation
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// Reads `qacct -j ID`: how a finished SGE job ended. A job rescheduled or run as an array has a
/// record per run; the last one is its end. `failed` says whether SGE itself stopped it (with a
/// code and words: `37  : qmaster enforced h_rt, h_cpu, or h_vmem limit`), `exit_status` how the
/// job ended (128 + the signal when killed).
enum GridEngineAccountingParser {
    struct Record: Sendable, Hashable {
        var failed: Int
        var failedReason: String?
        var exitStatus: Int32
        var host: String?
        /// The most virtual memory it used, in bytes, when SGE says.
        var maximumVirtualMemory: Double?
    }

    /// The last record's fields; nil when there is none that says how the job ended.
    static func parse(_ output: String) -> Record? {
        var records: [[String: String]] = []
        var current: [String: String] = [:]
        for line in output.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("====") {
                if !current.isEmpty { records.append(current) }
                current = [:]
                continue
            }
            let parts = line.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
            guard let key = parts.first else { continue }
            current[String(key)] = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        }
        if !current.isEmpty { records.append(current) }
        guard let last = records.last(where: { $0["exit_status"] != nil && $0["failed"] != nil }),
            let exitText = last["exit_status"]?.split(separator: " ").first, let exitStatus = Int32(exitText),
            let failedText = last["failed"]
        else { return nil }
        let failedParts = failedText.split(separator: ":", maxSplits: 1)
        guard let failed = failedParts.first.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else { return nil }
        let reason = failedParts.count > 1 ? failedParts[1].trimmingCharacters(in: .whitespaces) : nil
        return Record(
            failed: failed, failedReason: reason?.isEmpty == true ? nil : reason, exitStatus: exitStatus,
            host: last["hostname"], maximumVirtualMemory: last["maxvmem"].flatMap(memory))
    }

    /// SGE's `failed` codes from before the job's command ran (its shepherd could not set it up:
    /// the working folder, the output file, the shell, a group…): it never started.
    static let beforeTheJob: Set<Int> = [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 26, 27, 28, 29, 36, 38]
    /// SGE stopped it at a limit: h_rt, h_cpu or h_vmem.
    static let limitEnforced = 37

    /// How the job ended, from its record.
    static func status(_ record: Record, memory: MemorySize) -> ExitStatus {
        if beforeTheJob.contains(record.failed) {
            return .couldNotStart(reason: "the grid could not start it: \(record.failedReason ?? "failed \(record.failed)")")
        }
        if record.failed == limitEnforced, let used = record.maximumVirtualMemory, memory.bytes > 0, used >= Double(memory.bytes) {
            return .outOfMemory(limit: memory)
        }
        if record.exitStatus > 128 && record.exitStatus < 160 { return .signaled(signal: record.exitStatus - 128) }
        if record.failed == limitEnforced { return .signaled(signal: SIGKILL) }
        return .exited(code: record.exitStatus)
    }

    /// `1.234G`, `512.000M`, `0.000B`, `0.000` (bytes) as bytes; nil for anything else.
    static func memory(_ text: String) -> Double? {
        guard let unit = text.last else { return nil }
        if unit == "B" { return Double(text.dropLast()) }
        let scales: [Character: Double] = ["K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024, "T": 1024 * 1024 * 1024 * 1024]
        if let scale = scales[unit] {
            return Double(text.dropLast()).map { $0 * scale }
        }
        return Double(text)
    }
}
