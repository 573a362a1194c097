import Foundation
import Testing

@testable import KilnCore

@Suite struct ScheduleTicksTests {
    let everyMinute = try! CronSchedule(parsing: "* * * * *")
    let created = CronScheduleTests.date("2026-11-25T10:00:30Z")

    func at(_ text: String) -> Date { CronScheduleTests.date(text) }

    @Test func eachTickRunsOnceAndWaitsForTheNext() {
        var ticks = ScheduleTicks(schedule: everyMinute, since: created)
        #expect(ticks.decide(now: at("2026-11-25T10:00:50Z"), running: false) == .wait(until: at("2026-11-25T10:01:00Z")))
        #expect(ticks.decide(now: at("2026-11-25T10:01:00Z"), running: false) == .run(tick: at("2026-11-25T10:01:00Z"), missed: 0))
        // Asked again within the same minute (a second timer, a restart): nothing more.
        #expect(ticks.decide(now: at("2026-11-25T10:01:40Z"), running: false) == .wait(until: at("2026-11-25T10:02:00Z")))
        #expect(ticks.lastTick == at("2026-11-25T10:01:00Z"))
    }

    @Test func theClaimedTickSurvivesARestart() {
        var before = ScheduleTicks(schedule: everyMinute, since: created)
        _ = before.decide(now: at("2026-11-25T10:01:05Z"), running: false)
        // The platform restarts at 10:01:30 with the stored last tick: 10:01 is not run again.
        var after = ScheduleTicks(schedule: everyMinute, lastTick: before.lastTick, since: created)
        #expect(after.decide(now: at("2026-11-25T10:01:30Z"), running: false) == .wait(until: at("2026-11-25T10:02:00Z")))
    }

    @Test func ticksMissedWhileDownRunOnceAtStart() {
        var ticks = ScheduleTicks(schedule: everyMinute, lastTick: at("2026-11-25T10:01:00Z"), since: created)
        // Down from 10:01:30 to 10:07:20: 10:02 … 10:07 were missed; one run, for the latest.
        #expect(ticks.decide(now: at("2026-11-25T10:07:20Z"), running: false) == .run(tick: at("2026-11-25T10:07:00Z"), missed: 5))
        #expect(ticks.decide(now: at("2026-11-25T10:07:30Z"), running: false) == .wait(until: at("2026-11-25T10:08:00Z")))
    }

    @Test func aRunStillGoingIsNotDoubled() {
        var ticks = ScheduleTicks(schedule: everyMinute, lastTick: at("2026-11-25T10:01:00Z"), since: created)
        #expect(ticks.decide(now: at("2026-11-25T10:02:00Z"), running: true) == .skip(tick: at("2026-11-25T10:02:00Z")))
        // The skipped tick is not run late once the run ends; the next tick is.
        #expect(ticks.decide(now: at("2026-11-25T10:02:30Z"), running: false) == .wait(until: at("2026-11-25T10:03:00Z")))
        #expect(ticks.decide(now: at("2026-11-25T10:03:00Z"), running: false) == .run(tick: at("2026-11-25T10:03:00Z"), missed: 0))
    }

    @Test func ticksBeforeTheJobExistedDoNotCount() {
        let daily = try! CronSchedule(parsing: "0 3 * * *")
        var ticks = ScheduleTicks(schedule: daily, since: at("2026-11-25T10:00:00Z"))
        #expect(ticks.decide(now: at("2026-11-25T10:00:01Z"), running: false) == .wait(until: at("2026-11-26T03:00:00Z")))
    }

    @Test func aScheduleThatNeverFiresSaysSo() {
        var ticks = ScheduleTicks(schedule: try! CronSchedule(parsing: "0 0 30 feb *"), since: created)
        #expect(ticks.decide(now: at("2026-11-25T10:07:20Z"), running: false) == .never)
    }
}
