import KilnCore
import Logging

/// Reports, at most once per interval, the route matches abandoned at PCRE2's limits since the
/// last report: how many, and the last tool and pattern. The requests themselves were answered
/// as unmatched (usually 503 for the tool); this is for the operator.
struct PatternLimitReporter {
    let hits: PatternLimitHits
    let interval: Duration
    let logger: Logger

    init(hits: PatternLimitHits = .shared, interval: Duration = .seconds(60), logger: Logger) {
        self.hits = hits
        self.interval = interval
        self.logger = logger
    }

    /// Until cancelled.
    func run() async {
        while (try? await Task.sleep(for: interval)) != nil {
            report()
        }
        report()
    }

    func report() {
        guard let report = hits.take() else { return }
        logger.warning(
            "route patterns abandoned at the match limit or the per-request budget (treated as not matching)",
            metadata: [
                "count": "\(report.count)", "last_tool": "\(report.lastTool)", "last_pattern": "\(report.lastPattern)",
            ])
    }
}
