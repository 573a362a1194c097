import CoreMetrics
import Foundation
import KilnCore

/// What the monitors count for the operator's metrics: webservice replicas started again after
/// dying, job runs by how they ended, and how late a scheduled run started after its tick. Made
/// with the factory of the registry the platform serves (tests pass their own; `.none` counts
/// nowhere), so no process-wide metrics system is needed.
public struct MonitorMetrics: Sendable {
    let replicaRestarts: CoreMetrics.Counter
    private let runsSucceeded: CoreMetrics.Counter
    private let runsFailed: CoreMetrics.Counter
    private let runsTimedOut: CoreMetrics.Counter
    private let runsCancelled: CoreMetrics.Counter
    private let scheduleLag: CoreMetrics.Timer

    public init(factory: any MetricsFactory) {
        replicaRestarts = Counter(label: "kiln_webservice_replica_restarts_total", factory: factory)
        func runs(_ result: JobRunLifecycle.Outcome.Result) -> CoreMetrics.Counter {
            Counter(label: "kiln_job_runs_total", dimensions: [("outcome", result.rawValue)], factory: factory)
        }
        runsSucceeded = runs(.succeeded)
        runsFailed = runs(.failed)
        runsTimedOut = runs(.timedOut)
        runsCancelled = runs(.cancelled)
        scheduleLag = Timer(label: "kiln_job_schedule_lag_seconds", factory: factory)
    }

    /// Counts nothing.
    public static var none: MonitorMetrics { MonitorMetrics(factory: NOOPMetricsHandler.instance) }

    func runFinished(_ result: JobRunLifecycle.Outcome.Result) {
        switch result {
        case .succeeded: runsSucceeded.increment()
        case .failed: runsFailed.increment()
        case .timedOut: runsTimedOut.increment()
        case .cancelled: runsCancelled.increment()
        }
    }

    /// A scheduled run of `tick` starts at `now` (a tick caught up late counts its whole delay).
    func scheduledRunStarted(tick: Date, now: Date) {
        scheduleLag.recordSeconds(max(0, now.timeIntervalSince(tick)))
    }
}
