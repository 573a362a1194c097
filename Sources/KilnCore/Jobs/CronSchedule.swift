import Foundation

/// A job's schedule: standard five-field cron (minute, hour, day of month, month, day of week) with
/// lists, ranges, steps and month and day names, or a nickname (`@hourly`, `@daily`, `@weekly`,
/// `@monthly`, `@yearly`). A nickname is spread over its period by a stable hash of the tool and
/// job (as Toolforge does), so that a thousand `@daily` jobs do not start in the same second.
///
/// Days follow cron's rule: when both the day of month and the day of week are restricted (neither
/// field starts with `*`), a day matches if either does; otherwise it must match both.
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    /// What the user wrote.
    public let source: String
    /// The five fields the schedule runs on (a nickname's, after spreading).
    public let expression: String
    let minutes: UInt64
    let hours: UInt64
    let daysOfMonth: UInt64
    let months: UInt64
    let daysOfWeek: UInt64
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    public var description: String { source == expression ? source : "\(source) (\(expression))" }

    /// `spreadKey` places a nickname in its period (use `spreadKey(tool:job:)`); plain expressions
    /// ignore it.
    public init(parsing text: String, spreadKey: String = "") throws(KilnError) {
        let source = text.trimmingWhitespace()
        self.source = source
        let expression = try Self.expand(source, spreadKey: spreadKey)
        self.expression = expression
        let fields = expression.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 5 else {
            throw Self.error(
                "a schedule has five fields (minute hour day-of-month month day-of-week) or is one of "
                    + Self.nicknames.joined(separator: ", ") + "; '\(source)' has \(fields.count)",
                source: source)
        }
        minutes = try Field.minute.parse(fields[0], source: source)
        hours = try Field.hour.parse(fields[1], source: source)
        daysOfMonth = try Field.dayOfMonth.parse(fields[2], source: source)
        months = try Field.month.parse(fields[3], source: source)
        var weekdays = try Field.dayOfWeek.parse(fields[4], source: source)
        if weekdays & (1 << 7) != 0 { weekdays = (weekdays | 1) & ~(1 << 7) }  // 7 is Sunday too
        daysOfWeek = weekdays
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
    }

    public static let nicknames = ["@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually"]

    /// The key that spreads a tool's job: stable across runs and machines.
    public static func spreadKey(tool: String, job: String) -> String { "\(tool)/\(job)" }

    // MARK: Next run

    /// The first minute strictly after `date` at which the schedule fires, in `timeZone`; nil when
    /// it never does (the 30th of February).
    public func next(after date: Date, in timeZone: TimeZone = TimeZone(identifier: "UTC")!) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let start = date.addingTimeInterval(60 - date.timeIntervalSince1970.truncatingRemainder(dividingBy: 60))
        var parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: start)
        // Every step moves to the start of the next candidate month, day, hour or minute; a
        // schedule that fires at all does so within eight years (leap days), which bounds the walk.
        let limit = (parts.year ?? 1970) + 8
        while let year = parts.year, year <= limit {
            guard let month = parts.month, let day = parts.day, let hour = parts.hour, let minute = parts.minute else { return nil }
            if !Self.contains(months, month) {
                parts = DateComponents(year: month == 12 ? year + 1 : year, month: month % 12 + 1, day: 1, hour: 0, minute: 0)
                continue
            }
            guard let candidate = calendar.date(from: parts) else { return nil }
            let current = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: candidate)
            if current.month != month {  // past the month's end (the 31st of a 30-day month)
                parts = DateComponents(year: current.year, month: current.month, day: 1, hour: 0, minute: 0)
                continue
            }
            if !matchesDay(dayOfMonth: day, weekday: (current.weekday ?? 1) - 1) {
                parts = nextDay(after: candidate, calendar: calendar)
                continue
            }
            // Hours and minutes jump straight to the next allowed one (a thousand jobs are
            // looked at every minute; stepping one by one cost a calendar call per step).
            if !Self.contains(hours, hour) {
                if let next = Self.nextMember(of: hours, from: hour + 1, through: 23) {
                    parts = DateComponents(year: year, month: month, day: day, hour: next, minute: 0)
                } else {
                    parts = nextDay(after: candidate, calendar: calendar)
                }
                continue
            }
            if !Self.contains(minutes, minute) {
                if let next = Self.nextMember(of: minutes, from: minute + 1, through: 59) {
                    parts = DateComponents(year: year, month: month, day: day, hour: hour, minute: next)
                } else {
                    parts = calendar.dateComponents(
                        [.year, .month, .day, .hour, .minute], from: candidate.addingTimeInterval(Double(60 * (60 - minute))))
                }
                continue
            }
            return candidate
        }
        return nil
    }

    /// Vixie cron's rule: with both day fields restricted either may match; when either starts
    /// with `*` (a plain `*` allows every day, `*/10` only some) both must.
    func matchesDay(dayOfMonth: Int, weekday: Int) -> Bool {
        let byMonth = Self.contains(daysOfMonth, dayOfMonth)
        let byWeek = Self.contains(daysOfWeek, weekday)
        return dayOfMonthRestricted && dayOfWeekRestricted ? byMonth || byWeek : byMonth && byWeek
    }

    private func nextDay(after date: Date, calendar: Calendar) -> DateComponents {
        let startOfDay = calendar.startOfDay(for: date)
        let next = calendar.date(byAdding: .day, value: 1, to: startOfDay) ?? startOfDay.addingTimeInterval(86400)
        return calendar.dateComponents([.year, .month, .day, .hour, .minute], from: next)
    }

    /// The smallest member of `set` from `start` through `end`.
    static func nextMember(of set: UInt64, from start: Int, through end: Int) -> Int? {
        guard start <= end, start < 64 else { return nil }
        let remaining = set >> UInt64(start)
        guard remaining != 0 else { return nil }
        let found = start + remaining.trailingZeroBitCount
        return found <= end ? found : nil
    }

    static func contains(_ set: UInt64, _ value: Int) -> Bool { value >= 0 && value < 64 && set & (1 << UInt64(value)) != 0 }

    // MARK: Parsing

    static func error(_ message: String, source: String) -> KilnError {
        KilnError(.badRequest, message, context: ["field": "schedule", "schedule": source])
    }

    /// A nickname as five fields, placed by the spread key's hash; other text as it is.
    static func expand(_ source: String, spreadKey: String) throws(KilnError) -> String {
        guard source.hasPrefix("@") else { return source }
        var hash = StableHash(spreadKey)
        let minute = hash.next(below: 60)
        let hour = hash.next(below: 24)
        switch source.lowercased() {
        case "@hourly": return "\(minute) * * * *"
        case "@daily", "@midnight": return "\(minute) \(hour) * * *"
        case "@weekly": return "\(minute) \(hour) * * \(hash.next(below: 7))"
        // Days 1 to 28, so that every month has the day.
        case "@monthly": return "\(minute) \(hour) \(hash.next(below: 28) + 1) * *"
        case "@yearly", "@annually": return "\(minute) \(hour) \(hash.next(below: 28) + 1) \(hash.next(below: 12) + 1) *"
        default:
            throw error("unknown schedule '\(source)': use five cron fields or one of \(nicknames.joined(separator: ", "))", source: source)
        }
    }

    enum Field: String {
        case minute, hour, dayOfMonth = "day of month", month, dayOfWeek = "day of week"

        var range: ClosedRange<Int> {
            switch self {
            case .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 0...7
            }
        }

        var names: [String] {
            switch self {
            case .month: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            case .dayOfWeek: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
            default: []
            }
        }

        /// The field's values as a bit set: `*`, `N`, `N-M`, each with an optional `/STEP`, in a
        /// comma-separated list; months and days also by their three-letter English names.
        func parse(_ text: Substring, source: String) throws(KilnError) -> UInt64 {
            var set: UInt64 = 0
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count <= 2, !item.isEmpty else { throw problem("'\(item)' is not a value, range or step", source) }
                var step = 1
                if parts.count == 2 {
                    guard let value = Int(parts[1]), value > 0 else { throw problem("the step in '\(item)' must be a positive number", source) }
                    step = value
                }
                let bounds: ClosedRange<Int>
                if parts[0] == "*" {
                    bounds = range.lowerBound...(self == .dayOfWeek ? 6 : range.upperBound)
                } else if let dash = parts[0].firstIndex(of: "-") {
                    let low = try value(parts[0][..<dash], in: item, source)
                    let high = try value(parts[0][parts[0].index(after: dash)...], in: item, source)
                    guard low <= high else { throw problem("the range '\(item)' runs backwards", source) }
                    bounds = low...high
                } else {
                    let start = try value(parts[0], in: item, source)
                    // `N/STEP` runs from N to the field's end, as Vixie cron reads it.
                    bounds = start...(parts.count == 2 ? (self == .dayOfWeek ? 6 : range.upperBound) : start)
                }
                for value in stride(from: bounds.lowerBound, through: bounds.upperBound, by: step) { set |= 1 << UInt64(value) }
            }
            return set
        }

        private func value(_ text: Substring, in item: Substring, _ source: String) throws(KilnError) -> Int {
            if let number = Int(text) {
                guard range.contains(number) else {
                    throw problem("\(number) in '\(item)' is outside \(range.lowerBound)-\(range.upperBound)", source)
                }
                return number
            }
            if let index = names.firstIndex(of: text.lowercased()) { return self == .month ? index + 1 : index }
            throw problem("'\(text)' in '\(item)' is not a number\(names.isEmpty ? "" : " or a name (\(names.joined(separator: " ")))")", source)
        }

        private func problem(_ message: String, _ source: String) -> KilnError {
            CronSchedule.error("invalid schedule '\(source)': \(rawValue): \(message)", source: source)
        }
    }
}

/// FNV-1a over UTF-8, then a SplitMix step per draw: the same numbers for the same key on every
/// run and machine (Swift's `Hasher` is seeded per process, so it cannot spread schedules).
struct StableHash {
    private var state: UInt64

    init(_ key: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        state = hash
    }

    mutating func next(below bound: Int) -> Int {
        state = state &+ 0x9e37_79b9_7f4a_7c15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        mixed ^= mixed >> 31
        return Int(mixed % UInt64(bound))
    }
}
