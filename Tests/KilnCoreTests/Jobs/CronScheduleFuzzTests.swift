import Foundation
import KilnCore
import PropertyBased
import Testing

/// Schedules as a hostile tool writes them: each parses, or is refused with a KilnError; a parsed
/// one's next time is later than the moment asked about, or never.
@Suite struct CronScheduleFuzzTests {
    static let items = [
        "*", "*/0", "*/1", "*/7", "*/99999999999999999999", "*/9223372036854775807", "-1", "0", "7", "59", "60", "1-5",
        "5-1", "0-9223372036854775807", "1-99999999999999999999", "31", "32", "jan", "sun-sat", "mon/2", "1,2,,3", "",
        "@daily", "1/1/1", "0x10", "1e3", "*/-1",
    ]

    static let schedules = Generator<String, Shrink.None<String>> { rng in
        if Int.random(in: 0..<10, using: &rng) == 0 {
            return ["@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@reboot", "@", "0 0 30 2 *"].randomElement(using: &rng) ?? ""
        }
        let fields = Int.random(in: 4...6, using: &rng)
        return (0..<fields).map { _ in
            let count = Int.random(in: 1...3, using: &rng)
            return (0..<count).map { _ in items.randomElement(using: &rng) ?? "*" }.joined(separator: ",")
        }.joined(separator: " ")
    }

    @Test func schedulesParseOrAreRefused() async {
        let moment = Date(timeIntervalSince1970: 1_767_225_600)
        var executions = 0
        var parsed = 0
        await propertyCheck(count: 2000, input: Self.schedules) { text in
            executions += 1
            guard let schedule = try? CronSchedule(parsing: text, spreadKey: "fuzz/job") else { return }
            parsed += 1
            if let next = schedule.next(after: moment) { #expect(next > moment, "\(text)") }
        }
        print("fuzz: cron schedules: \(executions) executions, \(parsed) parsed")
        #expect(executions == 2000)
    }
}
