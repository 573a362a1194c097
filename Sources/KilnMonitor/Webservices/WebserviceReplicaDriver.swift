import KilnCore

/// What the monitor asks of a replica's driver, wherever the replica runs: this host
/// (`ReplicaDriver`) or a grid (`GridReplicaDriver`).
protocol WebserviceReplicaDriver: Actor {
    nonisolated var index: Int { get }
    /// The route the replica backs while it lives (kept through its restarts on this host; only
    /// while registered on a grid, where each life has its own host and port).
    nonisolated var liveRoute: Route? { get }
    /// The replica's record as the driver has it now.
    var current: ReplicaRecord { get }
    /// Starts a new replica (a rolling restart's): nothing to adopt; nothing starts once stopped.
    func beginNew() async
    /// Takes the replica out of the proxy, stops it, and returns once it is down.
    func stop() async
    /// Takes the replica out of the proxy, waits `drain` (proxies that hear of it a moment
    /// later still send to it meanwhile), then stops it gracefully; returns once it is down.
    func stop(draining drain: Duration) async
}
