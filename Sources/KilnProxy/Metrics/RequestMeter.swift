import NIOCore

/// A connection handler's side of the request metrics: when the exchange began, and the tally of
/// the tool it went to. The tally of the last tool is kept, so requests of one connection to the
/// same tool (the common case) find theirs with a string comparison, not a dictionary lookup.
struct RequestMeter {
    private var started: NIODeadline = .uptimeNanoseconds(0)
    private var current: ToolTally?
    private var lastTool = ""
    private var lastTally: ToolTally?

    /// An exchange begins; it counts as unrouted until `routed(to:in:)`.
    mutating func begin(at now: NIODeadline = .now()) {
        started = now
        current = nil
    }

    mutating func routed(to tool: String, in metrics: LoopMetrics) {
        if let lastTally, tool == lastTool {
            current = lastTally
            return
        }
        let tally = metrics.tally(for: tool)
        lastTool = tool
        lastTally = tally
        current = tally
    }

    /// The exchange ended with `status` (0: none was sent).
    mutating func end(status: UInt, in metrics: LoopMetrics, at now: NIODeadline = .now()) {
        let elapsed = now > started ? now.uptimeNanoseconds - started.uptimeNanoseconds : 0
        (current ?? metrics.unrouted).record(status: status, nanoseconds: elapsed)
        current = nil
    }
}
