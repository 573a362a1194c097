/// How a supervised process is brought back after it dies: exponential backoff from
/// `initialBackoff` doubling to `maximumBackoff`, and after `maximumFailures` deaths within
/// `failureWindow` it is given up as failed.
public struct RestartPolicy: Sendable, Hashable, Codable {
    public var initialBackoff: Duration
    public var maximumBackoff: Duration
    public var maximumFailures: Int
    public var failureWindow: Duration

    public init(
        initialBackoff: Duration = .seconds(1), maximumBackoff: Duration = .seconds(300), maximumFailures: Int = 5,
        failureWindow: Duration = .seconds(600)
    ) {
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.maximumFailures = maximumFailures
        self.failureWindow = failureWindow
    }

    /// The wait before the next start after `recentFailures` deaths in the window (1 or more).
    public func backoff(afterFailures recentFailures: Int) -> Duration {
        let exponent = max(0, recentFailures - 1)
        // Doubling stops at the ceiling, long before the multiplier could overflow.
        var delay = initialBackoff
        for _ in 0..<min(exponent, 30) where delay < maximumBackoff { delay *= 2 }
        return min(delay, maximumBackoff)
    }
}
