/// How often and how patiently a continuous job's replica is probed, as Toolforge sets its
/// Kubernetes probes: while starting, often until it answers (the start timeout is the
/// driver's); once ready, every `period`, each probe given `timeout`, and `failureThreshold`
/// failures in a row mean it is stuck and is restarted.
public struct ProbePolicy: Sendable, Hashable {
    /// Between probes of a replica that is not ready yet.
    public var startInterval: Duration
    /// Between the starts of two probes of a ready replica (Kubernetes' periodSeconds).
    public var period: Duration
    /// How long one probe may take before it counts as failed (timeoutSeconds).
    public var timeout: Duration
    /// Failures in a row that restart a ready replica (failureThreshold).
    public var failureThreshold: Int

    public init(
        startInterval: Duration = .milliseconds(100), period: Duration = .seconds(10), timeout: Duration = .seconds(5),
        failureThreshold: Int = 3
    ) {
        self.startInterval = startInterval
        self.period = period
        self.timeout = timeout
        // At least one failure: a threshold of 0 would restart a healthy replica.
        self.failureThreshold = max(1, failureThreshold)
    }
}

extension Duration {
    /// "10 s", "500 ms": how the platform says a duration in messages.
    public var spoken: String {
        let (seconds, attoseconds) = components
        // Whole seconds (or so many that milliseconds no longer matter) are said in seconds.
        guard attoseconds != 0, seconds < 1_000_000 else { return "\(seconds) s" }
        return "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000) ms"
    }
}
