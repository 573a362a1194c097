import Logging
import Synchronization
import Testing

@testable import KilnCore
@testable import KilnProxy

@Suite struct PatternLimitReporterTests {
    /// Keeps what is logged through it.
    struct RecordingLogHandler: LogHandler {
        let records: Records
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            records.lines.withLock { $0.append((event.level, "\(event.message)", event.metadata ?? [:])) }
        }
    }

    final class Records: Sendable {
        let lines = Mutex<[(Logger.Level, String, Logger.Metadata)]>([])
    }

    @Test func hitsAreReportedOnceWithTheLastToolAndPattern() {
        let records = Records()
        let logger = Logger(label: "test") { _ in RecordingLogHandler(records: records) }
        let hits = PatternLimitHits()
        let reporter = PatternLimitReporter(hits: hits, logger: logger)
        reporter.report()
        #expect(records.lines.withLock { $0.isEmpty }, "nothing to report, nothing logged")

        hits.record(tool: "a", pattern: "^/(a+)+$")
        hits.record(tool: "b", pattern: "^/(b*)*c")
        reporter.report()
        reporter.report()
        let lines = records.lines.withLock { $0 }
        #expect(lines.count == 1)
        #expect(lines.first?.0 == .warning)
        #expect(lines.first?.2["count"] == "2")
        #expect(lines.first?.2["last_tool"] == "b")
        #expect(lines.first?.2["last_pattern"] == "^/(b*)*c")
    }

    @Test func itReportsUntilCancelledAndOnceMoreOnTheWayOut() async {
        let records = Records()
        let logger = Logger(label: "test") { _ in RecordingLogHandler(records: records) }
        let hits = PatternLimitHits()
        let reporter = PatternLimitReporter(hits: hits, interval: .seconds(3600), logger: logger)
        hits.record(tool: "a", pattern: "^/(a+)+$")
        let running = Task { await reporter.run() }
        running.cancel()
        await running.value
        #expect(records.lines.withLock { $0.count } == 1)
    }
}
