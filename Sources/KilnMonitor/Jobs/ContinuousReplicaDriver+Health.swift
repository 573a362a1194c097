import KilnCore
import KilnRunner

/// A replica's health, asked as Toolforge's Kubernetes probes ask it (`ReplicaHealth` decides,
/// `ReplicaHealthCheck` asks): while it starts, until it passes or the start timeout; while it
/// lives, every period, and after too many failures in a row it is stopped and its end recorded
/// as unhealthy, so it is started again as a death is, and counted as a restart.
extension ContinuousReplicaDriver {
    /// How a life ended while its health was watched.
    enum LifeEnd: Sendable {
        case ended(ExitStatus)
        case unhealthy(reason: String)
        /// The platform shuts down: the replica is stopped through `stop`.
        case detached
    }

    /// The replica's check with what a probe needs; nil when the job has none (no port, no check).
    func healthCheck() -> ReplicaHealthCheck? {
        guard let check = spec.healthCheck else { return nil }
        let script: ProcessSpec? =
            switch check {
            case .script(let command): scriptSpec(command)
            case .http, .port: nil
            }
        return ReplicaHealthCheck(check: check, port: spec.port == nil ? 0 : record.port, owner: portOwner, script: script)
    }

    /// The health-check script as the job runs (its user, directory and environment).
    func scriptSpec(_ script: String) -> ProcessSpec? {
        guard let life, let check = try? submission(life, 1, port) else { return nil }
        var environment = check.environment
        environment["PATH"] = "/usr/local/bin:/usr/bin:/bin"
        environment["HOME"] = check.home
        return ProcessSpec(
            executable: "/bin/sh", arguments: ["-c", script], environment: environment, workingDirectory: check.workingDirectory,
            user: check.user, standardOutput: .discard, standardError: check.error.map { .file(check.files, $0) } ?? .discard,
            stopGracePeriod: .seconds(1))
    }

    /// Whether the new life became ready: at once without a check; false when it died or its
    /// start timeout passed first.
    func becameReady(_ handle: JobHandle) async -> Bool {
        guard let check = healthCheck() else { return true }
        let backend = self.backend
        return await Self.untilReady(
            check, policy: probes, within: startTimeout, clock: probeClock, isRunning: { await backend.isRunning(handle) })
    }

    /// Waits for the life's end while its health is watched; a replica that fails its check too
    /// often in a row is stopped (TERM, then KILL) and its end recorded as unhealthy.
    func live(_ handle: JobHandle, health: ReplicaHealth) async -> ReplicaLifecycle.Action {
        guard let check = healthCheck() else { return await awaitEnd(handle) }
        let end = await Self.untilEndOrUnhealthy(handle, backend: backend, check: check, health: health, clock: probeClock)
        switch end {
        case .ended(let status):
            return await ended(status)
        case .detached:
            return .none
        case .unhealthy(let reason):
            logger.warning("continuous job replica failed its health check; restarting it", metadata: ["reason": "\(reason)"])
            await backend.cancel(handle, grace: RunDriver.stopGrace)
            _ = try? await backend.waitForEnd(handle)
            return await ended(.unhealthy(reason: reason))
        }
    }

    static func untilReady(
        _ check: ReplicaHealthCheck, policy: ProbePolicy, within limit: Duration, clock: some Clock<Duration>,
        isRunning: @escaping @Sendable () async -> Bool
    ) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                var health = ReplicaHealth(policy: policy)
                var action = health.firstProbe
                var last = clock.now
                while await isRunning() {
                    switch action {
                    case .probe(let after):
                        do {
                            try await clock.sleep(until: last.advanced(by: after), tolerance: nil)
                        } catch {
                            return false
                        }
                        last = clock.now
                        action = health.record(await check.probe(timeout: policy.timeout, clock: clock))
                    case .ready:
                        return true
                    case .restart, .none:
                        // Only a ready replica is restarted: not reached while starting.
                        return false
                    }
                }
                return false
            }
            group.addTask {
                try? await clock.sleep(for: limit)
                return false
            }
            let ready = await group.next() ?? false
            group.cancelAll()
            return ready
        }
    }

    static func untilEndOrUnhealthy(
        _ handle: JobHandle, backend: any JobBackend, check: ReplicaHealthCheck, health: ReplicaHealth, clock: some Clock<Duration>
    ) async -> LifeEnd {
        await withTaskGroup(of: LifeEnd.self) { group in
            group.addTask {
                do {
                    return .ended(try await backend.waitForEnd(handle))
                } catch {
                    return .detached
                }
            }
            group.addTask { await watch(check, health: health, clock: clock) }
            let first = await group.next() ?? .detached
            group.cancelAll()
            return first
        }
    }

    /// Probes every period (from the start of one probe to the next) until the check says to
    /// restart; `.detached` when cancelled (the life ended first).
    static func watch(_ check: ReplicaHealthCheck, health: ReplicaHealth, clock: some Clock<Duration>) async -> LifeEnd {
        var health = health
        var action = health.firstProbe
        var last = clock.now
        while true {
            switch action {
            case .probe(let after), .ready(let after):
                do {
                    try await clock.sleep(until: last.advanced(by: after), tolerance: nil)
                } catch {
                    return .detached
                }
                last = clock.now
                action = health.record(await check.probe(timeout: health.policy.timeout, clock: clock))
            case .restart(let reason):
                return .unhealthy(reason: reason)
            case .none:
                return .detached
            }
        }
    }
}
