import Foundation
import Testing

@testable import KilnCore

@Suite struct CronScheduleTests {
    static let utc = TimeZone(identifier: "UTC")!

    static func date(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]
        formatter.timeZone = utc
        return formatter.date(from: text)!
    }

    static func text(_ date: Date?, in timeZone: TimeZone = utc) -> String {
        guard let date else { return "never" }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02dT%02d:%02d", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!)
    }

    /// Next fire times after Wednesday 2026-11-25 10:17:30 UTC, checked against a minute-by-minute
    /// scan with Vixie cron's rules (an independent implementation, in Python).
    static let table: [(String, String)] = [
        ("* * * * *", "2026-11-25T10:18"),
        ("*/15 * * * *", "2026-11-25T10:30"),
        ("0 * * * *", "2026-11-25T11:00"),
        ("30 2 * * *", "2026-11-26T02:30"),
        ("02 07 * * *", "2026-11-26T07:02"),
        ("0 0 1 * *", "2026-12-01T00:00"),
        ("0 0 * * 0", "2026-11-29T00:00"),
        ("0 0 * * 7", "2026-11-29T00:00"),
        ("0 9 * * mon-fri", "2026-11-26T09:00"),
        ("0 9 1,15 * *", "2026-12-01T09:00"),
        ("0 12 13 * fri", "2026-11-27T12:00"),
        ("15 14 1 jan *", "2027-01-01T14:15"),
        ("0 0 29 feb *", "2028-02-29T00:00"),
        ("0 0 31 * *", "2026-12-31T00:00"),
        ("5-10/2 3 * * *", "2026-11-26T03:05"),
        ("0 0 */10 * *", "2026-12-01T00:00"),
        ("0 0 */10 * mon", "2026-12-21T00:00"),
        ("0 22 * * 1-5", "2026-11-25T22:00"),
        ("0 0 1 */3 *", "2027-01-01T00:00"),
        ("45 23 31 dec *", "2026-12-31T23:45"),
        ("0 0 * jun sun", "2027-06-06T00:00"),
        ("10 * 25 nov wed", "2026-11-25T11:10"),
        ("0 0 1-7 * */2", "2026-12-01T00:00"),
        ("59 23 * * *", "2026-11-25T23:59"),
        ("0 0 30 feb *", "never"),
    ]

    @Test(arguments: table) func theNextFireTimeIsKnown(expression: String, expected: String) throws {
        let schedule = try CronSchedule(parsing: expression)
        #expect(Self.text(schedule.next(after: Self.date("2026-11-25T10:17:30Z"))) == expected, "\(expression)")
    }

    @Test func aFireTimeIsStrictlyAfterTheGivenMoment() throws {
        let schedule = try CronSchedule(parsing: "0 * * * *")
        #expect(Self.text(schedule.next(after: Self.date("2026-11-25T11:00:00Z"))) == "2026-11-25T12:00")
        // Walking the ticks gives each once, in order, across a month's and a year's end.
        var moment = Self.date("2026-12-31T22:30:00Z")
        var ticks: [String] = []
        for _ in 0..<3 {
            moment = try #require(schedule.next(after: moment))
            ticks.append(Self.text(moment))
        }
        #expect(ticks == ["2026-12-31T23:00", "2027-01-01T00:00", "2027-01-01T01:00"])
    }

    @Test func aJobsTimeZoneMovesItsTicks() throws {
        let schedule = try CronSchedule(parsing: "0 9 * * *")
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let next = try #require(schedule.next(after: Self.date("2026-11-25T10:17:30Z"), in: berlin))
        #expect(Self.text(next, in: berlin) == "2026-11-26T09:00")
        #expect(Self.text(next) == "2026-11-26T08:00")
    }

    @Test func nicknamesAreSpreadByToolAndJobAndStable() throws {
        let key = CronSchedule.spreadKey(tool: "mybot", job: "daily-report")
        let daily = try CronSchedule(parsing: "@daily", spreadKey: key)
        #expect(daily.expression == (try CronSchedule(parsing: "@daily", spreadKey: key)).expression)
        let fields = daily.expression.split(separator: " ")
        #expect(fields.count == 5 && fields[2...] == ["*", "*", "*"])
        #expect(try CronSchedule(parsing: "@hourly", spreadKey: key).expression.hasSuffix(" * * * *"))
        #expect(try CronSchedule(parsing: "@weekly", spreadKey: key).expression.split(separator: " ")[2...3] == ["*", "*"])
        let monthly = try CronSchedule(parsing: "@monthly", spreadKey: key).expression.split(separator: " ")
        #expect((1...28).contains(Int(monthly[2])!))
        #expect(daily.description.hasPrefix("@daily ("))
    }

    @Test func aThousandDailyJobsDoNotStartTogether() throws {
        var minutes: [Int: Int] = [:]
        for index in 0..<1000 {
            let schedule = try CronSchedule(parsing: "@daily", spreadKey: CronSchedule.spreadKey(tool: "tool\(index % 37)", job: "job\(index)"))
            let fields = schedule.expression.split(separator: " ")
            minutes[Int(fields[1])! * 60 + Int(fields[0])!, default: 0] += 1
        }
        // 1000 jobs over 1440 minutes of a day: spread, the busiest minute holding a handful.
        #expect(minutes.count > 700, "only \(minutes.count) distinct minutes")
        #expect(minutes.values.max()! <= 6)
    }

    @Test(arguments: [
        ("", "five fields"),
        ("* * * *", "has 4"),
        ("* * * * * *", "has 6"),
        ("60 * * * *", "minute: 60 in '60' is outside 0-59"),
        ("* 24 * * *", "hour: 24"),
        ("* * 0 * *", "day of month: 0"),
        ("* * * 13 *", "month: 13"),
        ("* * * * 8", "day of week: 8"),
        ("* * * foo *", "month: 'foo'"),
        ("*/0 * * * *", "minute: the step"),
        ("5-1 * * * *", "runs backwards"),
        ("1,,2 * * * *", "minute:"),
        ("@fortnightly", "unknown schedule"),
    ]) func aBadScheduleSaysWhichFieldAndWhy(expression: String, expected: String) {
        #expect {
            try CronSchedule(parsing: expression)
        } throws: { error in
            guard let error = error as? KilnError else { return false }
            return error.message.contains(expected) && error.context["field"] == "schedule"
        }
    }
}
