import Foundation

// Wall-clock instants and typed durations together: lifecycles keep `Date`s (they are stored and
// outlive the process) and wait `Duration`s, and the arithmetic between them lives here alone.
extension Date {
    public static func + (date: Date, duration: Duration) -> Date {
        date.addingTimeInterval(duration.timeInterval)
    }

    /// How long after `earlier` this is (negative when before it).
    public func duration(since earlier: Date) -> Duration {
        .seconds(timeIntervalSince(earlier))
    }
}

extension Duration {
    /// The duration in Foundation's seconds, for `Date` arithmetic.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
