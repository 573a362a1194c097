import Synchronization

/// Counts the route matches abandoned at a limit (see `RoutePatternMatch.abandoned`) and keeps
/// the last pattern that hit one, for a report now and then: a tool whose pattern backtracks on
/// every request would otherwise fill the log at the rate of its requests.
public final class PatternLimitHits: Sendable {
    /// What was abandoned since the last report.
    public struct Report: Sendable, Hashable {
        public var count: Int
        public var lastTool: String
        public var lastPattern: String
    }

    /// Every route table's hits: matching runs on many threads and tables are values copied
    /// between them, so the count is the process's.
    public static let shared = PatternLimitHits()

    private let state = Mutex<Report?>(nil)

    public init() {}

    /// Taken only when a match was abandoned, which already cost the engine its whole limit.
    func record(tool: String, pattern: String) {
        state.withLock { report in
            let count = report.map { $0.count < Int.max ? $0.count + 1 : $0.count } ?? 1
            report = Report(count: count, lastTool: tool, lastPattern: pattern)
        }
    }

    /// What was abandoned since the last call, if anything; starts counting afresh.
    public func take() -> Report? {
        state.withLock { report in
            defer { report = nil }
            return report
        }
    }
}
