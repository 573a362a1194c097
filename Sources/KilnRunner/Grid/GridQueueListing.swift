/// What a grid's queue showed at one moment (`qstat`, `squeue`): the jobs it still knows.
public struct GridQueueListing: Sendable, Hashable {
    public var entries: [GridJobEntry]
    /// Execution hosts the grid says it no longer hears from (SGE's queue instances in state
    /// `u`): their jobs may be gone with them.
    public var lostHosts: Set<String> = []
    private var byID: [String: Int]

    public init(_ entries: [GridJobEntry]) {
        self.entries = entries
        var byID: [String: Int] = [:]
        for (index, entry) in entries.enumerated() {
            // An array job lists a line per task under one id: the liveliest one stands for it.
            if let known = byID[entry.jobID], Self.liveliness(entries[known].state) >= Self.liveliness(entry.state) { continue }
            byID[entry.jobID] = index
        }
        self.byID = byID
    }

    public subscript(jobID: String) -> GridJobEntry? { byID[jobID].map { entries[$0] } }

    /// Running beats ending beats waiting beats finished.
    static func liveliness(_ state: GridJobState) -> Int {
        switch state {
        case .running, .suspended: 4
        case .ending: 3
        case .pending, .held, .error, .other: 2
        case .completed, .failed, .cancelled, .timedOut, .outOfMemory, .nodeFailed: 1
        }
    }
}
