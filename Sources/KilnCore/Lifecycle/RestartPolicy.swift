/// How a supervised process is brought back after it dies: exponential backoff from
/// `initialBackoff` doubling to `maximumBackoff`, and after `maximumFailures` deaths within
/// `failureWindow` seconds it is given up as failed.
public struct RestartPolicy: Sendable, Hashable, Codable {
    public var initialBackoff: Double
    public var maximumBackoff: Double
    public var maximumFailures: Int
    public var failureWindow: Double

    public init(initialBackoff: Double = 1, maximumBackoff: Double = 300, maximumFailures: Int = 5, failureWindow: Double = 600) {
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.maximumFailures = maximumFailures
        self.failureWindow = failureWindow
    }

    /// The wait before the next start after `recentFailures` deaths in the window (1 or more).
    public func backoff(afterFailures recentFailures: Int) -> Double {
        let exponent = max(0, recentFailures - 1)
        let delay = initialBackoff * Double(1 << min(exponent, 30))
        return min(delay, maximumBackoff)
    }
}
