import NIOCore

/// One event loop's counters. Only its loop writes or reads them (the scrape reads them through
/// `EventLoop.submit`), so a request pays plain increments: no lock or atomic shared by the loops.
public final class LoopMetrics: @unchecked Sendable {
    // Sendable only to be carried to its loop: every use is on that loop.
    private var tools: [String: ToolTally] = [:]
    /// Requests that no tool's route took (not found, a name without routes, redirects to HTTPS).
    let unrouted = ToolTally()
    private var upstreamConnectFailures = 0
    private var upstreamConnectTimeouts = 0
    private var upstreamResponseTimeouts = 0
    private var refusals = [Int](repeating: 0, count: ProxyRefusal.allCases.count)

    init() {}

    /// The tally of `tool`'s requests on this loop (a lookup: callers keep it while the tool is
    /// the same).
    func tally(for tool: String) -> ToolTally {
        if let tally = tools[tool] { return tally }
        let tally = ToolTally()
        tools[tool] = tally
        return tally
    }

    /// A connection to a backend failed; `error` tells a timeout from a refusal.
    func upstreamConnectFailed(_ error: any Error) {
        if case ChannelError.connectTimeout = error {
            upstreamConnectTimeouts += 1
        } else {
            upstreamConnectFailures += 1
        }
    }

    /// A backend did not answer (or finish answering) within the exchange's timeouts.
    func upstreamTimedOut() { upstreamResponseTimeouts += 1 }

    /// A client was turned away (for the rate limits and connection caps).
    public func refused(_ reason: ProxyRefusal) { refusals[reason.rawValue] += 1 }

    /// The counts, after forgetting the tools not in `routed` (nil: none forgotten).
    func snapshot(forgettingAllBut routed: Set<String>?) -> ProxyMetricsSnapshot {
        if let routed { tools = tools.filter { routed.contains($0.key) } }
        return snapshot
    }

    var snapshot: ProxyMetricsSnapshot {
        var snapshot = ProxyMetricsSnapshot()
        for (tool, tally) in tools { snapshot.requests[tool] = tally.snapshot }
        let unroutedRequests = unrouted.snapshot
        if unroutedRequests.count > 0 { snapshot.requests[ProxyMetricsSnapshot.unroutedTool] = unroutedRequests }
        snapshot.upstreamConnectFailures = upstreamConnectFailures
        snapshot.upstreamConnectTimeouts = upstreamConnectTimeouts
        snapshot.upstreamResponseTimeouts = upstreamResponseTimeouts
        snapshot.refusals = refusals
        return snapshot
    }
}
