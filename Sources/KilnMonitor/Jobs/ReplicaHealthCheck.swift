import KilnCore
import KilnRunner
import NIOCore

/// One probe of a continuous job's replica, of the kind its job declares (`JobHealthCheck`):
/// a GET of its path, a connection to its port, or its script run as the job runs. A probe
/// that takes longer than its timeout has failed, as Kubernetes counts it.
struct ReplicaHealthCheck: Sendable {
    let check: JobHealthCheck
    /// The replica's own loopback port ($PORT); 0 when the job has none.
    let port: Int
    /// Whose listener the port must be: an answer from anyone else's is no answer.
    let owner: BackendOwner
    /// The script as the job runs (its user, directory and environment), for `.script`.
    let script: ProcessSpec?

    func probe(timeout: Duration, clock: some Clock<Duration>) async -> ReplicaHealth.Outcome {
        switch check {
        case .http(let path): await probeHTTP(JobHealthCheck.target(of: path), timeout: timeout)
        case .port: await probePort(timeout: timeout)
        case .script: await probeScript(timeout: timeout, clock: clock)
        }
    }

    private var backend: HostPort { HostPort(host: "127.0.0.1", port: port) }

    /// Healthy on 2xx and 3xx, as Kubernetes' httpGet probe; 4xx and 5xx are failures.
    private func probeHTTP(_ target: String, timeout: Duration) async -> ReplicaHealth.Outcome {
        guard port > 0 else { return .failed("the replica has no port") }
        guard
            let status = await HealthProbe.status(
                of: backend, path: target, host: "127.0.0.1:\(port)", owner: owner, timeout: TimeAmount(timeout))
        else { return .failed("GET \(target): no answer within \(timeout.spoken)") }
        return (200..<400).contains(status) ? .passed : .failed("GET \(target) answered \(status)")
    }

    private func probePort(timeout: Duration) async -> ReplicaHealth.Outcome {
        guard port > 0 else { return .failed("the replica has no port") }
        return await HealthProbe.acceptsConnections(backend, owner: owner, timeout: TimeAmount(timeout))
            ? .passed : .failed("its port \(port) accepted no connection within \(timeout.spoken)")
    }

    private func probeScript(timeout: Duration, clock: some Clock<Duration>) async -> ReplicaHealth.Outcome {
        guard let script else { return .failed("no script") }
        // The script against the clock: the first to end wins, the other is cancelled (a
        // script past its time is stopped, its process group TERMed then KILLed).
        let status: ExitStatus? = await withTaskGroup(of: ExitStatus?.self) { group in
            group.addTask { await ProcessRunner.run(script) }
            group.addTask {
                try? await clock.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let status else { return .failed("the health-check script did not end within \(timeout.spoken)") }
        return status.isSuccess ? .passed : .failed("the health-check script \(status)")
    }
}

extension TimeAmount {
    /// A Duration as NIO's time amount (nanoseconds, saturating).
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflowAgain) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        self = .nanoseconds(overflow || overflowAgain ? .max : total)
    }
}
