import NIOCore
import Synchronization

/// A proxy's metrics, for a scrape: each event loop counts in its own `LoopMetrics`; `collect()`
/// asks every loop for its counts (on the loop) and adds them up, with the open connections and
/// the route table's version and age. Made before the `ProxyServer` and given to it, so whatever
/// serves `/metrics` holds it without reaching into the server.
public final class ProxyMetrics: Sendable {
    private struct Sources {
        var loops: [(loop: any EventLoop, metrics: LoopMetrics)] = []
        var connections: ConnectionRegistry?
        var routes: RouteTableReference?
    }

    private let sources = Mutex(Sources())

    public init() {}

    func attach(loops: [(any EventLoop, LoopMetrics)], connections: ConnectionRegistry, routes: RouteTableReference) {
        sources.withLock {
            $0.loops = loops.map { (loop: $0.0, metrics: $0.1) }
            $0.connections = connections
            $0.routes = routes
        }
    }

    /// Every loop's counts added up. Before the proxy runs: all zero.
    public func collect(now: ContinuousClock.Instant = .now) async throws -> ProxyMetricsSnapshot {
        let (loops, connections, routes) = sources.withLock { ($0.loops, $0.connections, $0.routes) }
        // A tool whose routes are gone (deleted, or its webservice stopped) loses its counts, as
        // Prometheus' clients forget a removed label set: the series do not outlive the tools.
        let routed = routes.map { Set($0.snapshot.toolNames) }
        var total = ProxyMetricsSnapshot()
        for (loop, metrics) in loops {
            total.add(try await loop.submit { metrics.snapshot(forgettingAllBut: routed) }.get())
        }
        total.openConnections = connections?.count ?? 0
        if let routes {
            total.routeTableVersion = routes.generation
            total.routeTableAge = max(.zero, now - routes.lastChanged)
        }
        return total
    }
}
