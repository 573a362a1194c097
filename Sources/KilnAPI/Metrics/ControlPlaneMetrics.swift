import CoreMetrics
import KilnCore
import KilnStore
import Prometheus

/// The control plane's metrics: one Prometheus registry, filled by the monitors' counters (made
/// with `factory`) and, at each scrape, by gauges read then: the webservice replicas in each
/// state, and the route feed's version. Served at `GET /metrics` to the admin.
public final class ControlPlaneMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let store: KilnStore
    let routeFeed: RouteFeedHub?

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), store: KilnStore, routeFeed: RouteFeedHub?) {
        self.registry = registry
        self.store = store
        self.routeFeed = routeFeed
    }

    /// For the metrics of the monitors and the rest of the control plane.
    public var factory: any MetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        // A scheduled run is late by the monitor's pass (well under a second) or, caught up after
        // the platform was down, by minutes: the default buckets stop at 10 s.
        factory.durationHistogramBuckets["kiln_job_schedule_lag_seconds"] = [
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
            .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(900), .seconds(3600),
        ]
        return factory
    }

    /// The registry's text exposition, its gauges read now.
    func exposition() async throws(KilnError) -> [UInt8] {
        var replicas: [ReplicaRecord.Phase: Int] = [:]
        for webservice in try await store.webservices() {
            for replica in try await store.replicas(of: webservice.tool) { replicas[replica.phase, default: 0] += 1 }
        }
        for phase in ReplicaRecord.Phase.allCases {
            registry.makeGauge(
                name: "kiln_webservice_replicas", labels: [("state", phase.rawValue)],
                help: "Webservice replicas in each state."
            ).set(Double(replicas[phase] ?? 0))
        }
        if let routeFeed {
            registry.makeGauge(name: "kiln_route_feed_version", help: "Route changes published to the proxies since the control plane started.")
                .set(Double(routeFeed.position.version))
        }
        return registry.emitToBuffer()
    }
}
