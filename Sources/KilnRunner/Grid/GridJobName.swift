import KilnCore

/// The name a grid shows for an attempt (`qsub -N`, `sbatch --job-name`): tool, job, run and
/// attempt, `TOOL.JOB.RUN.ATTEMPT`, so that an operator's `qstat`/`squeue` says whose it is
/// and the platform can find its own jobs by name. Tool and job names are DNS labels (letters,
/// digits, `-`), so the dots separate them unambiguously and no grid forbids a character.
public struct GridJobName: Sendable, Hashable, CustomStringConvertible {
    public var tool: ToolName
    public var job: String
    public var runID: Int64
    public var attempt: Int

    public init(tool: ToolName, job: String, runID: Int64, attempt: Int) {
        self.tool = tool
        self.job = job
        self.runID = runID
        self.attempt = attempt
    }

    public init(_ submission: JobSubmission) {
        self.init(tool: submission.tool, job: submission.job, runID: submission.runID, attempt: submission.attempt)
    }

    /// A grid's name back; nil for a name that is not one of the platform's.
    public init?(parsing name: String) {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, let tool = try? ToolName(String(parts[0])), !parts[1].isEmpty,
            parts[1].utf8.allSatisfy({ ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-") }),
            let runID = Int64(parts[2]), runID >= 0, let attempt = Int(parts[3]), attempt >= 0
        else { return nil }
        self.init(tool: tool, job: String(parts[1]), runID: runID, attempt: attempt)
    }

    public var description: String { "\(tool.rawValue).\(job).\(runID).\(attempt)" }
}
