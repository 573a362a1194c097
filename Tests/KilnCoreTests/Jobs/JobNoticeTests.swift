import KilnCore
import Testing

/// Which starts and ends are mailed for each `emails` setting, and what a start says.
@Suite struct JobNoticeTests {
    func notice(_ event: JobNotice.Event, failed: Bool = false) throws -> JobNotice {
        var run = JobRun(id: 7, tool: try ToolName("bot"), job: "daily", trigger: .schedule, phase: .running, attempt: 1, queuedAt: 0)
        run.startedAt = 1_893_456_000
        if event == .ended {
            run.phase = .finished
            run.lastStatus = failed ? .exited(code: 3) : .exited(code: 0)
            run.outcome = .init(result: failed ? .failed : .succeeded, status: run.lastStatus, attempts: 1)
        }
        return JobNotice(tool: try ToolName("bot"), maintainers: ["ada"], job: "daily", run: run, outputTail: [], errorTail: [], event: event)
    }

    @Test func eachSettingMailsWhatItSays() throws {
        let (started, succeeded, failed) = (try notice(.started), try notice(.ended), try notice(.ended, failed: true))
        let table: [(JobSpec.Emails, [Bool])] = [
            (.none, [false, false, false]), (.all, [true, true, true]), (.onfinish, [false, true, true]),
            (.onfailure, [false, false, true]),
        ]
        for (emails, expected) in table {
            #expect([started, succeeded, failed].map(emails.wants) == expected, "\(emails)")
        }
    }

    @Test func aStartSaysWhichRunStarted() throws {
        let started = try notice(.started)
        #expect(started.subject == "[kiln] bot/daily: run 7 started")
        #expect(started.body.contains("The job 'daily' of the tool 'bot' started a run."))
        #expect(started.body.contains("Started:     2030-01-01T00:00:00Z"))
        #expect(started.body.contains("Trigger:     schedule"))
        #expect(try notice(.ended).subject == "[kiln] bot/daily: run 7 succeeded")
        #expect(try notice(.ended, failed: true).subject == "[kiln] bot/daily: run 7 failed")
    }
}
