import Foundation
import KilnCore
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Keeps one process running: starts it in its own process group as its user, restarts it with
/// backoff when it dies, gives up after too many deaths, and on shutdown stops the whole group
/// (TERM, then KILL after the grace period) so no orphan survives.
public final class SupervisedProcess: Service, Sendable {
    public typealias Hook = @Sendable (_ pid: Int32) async -> Void

    let name: String
    let spec: ProcessSpec
    let policy: RestartPolicy
    let logger: Logger
    let onRunning: Hook
    let onExit: @Sendable (_ status: String) async -> Void

    public init(
        name: String, spec: ProcessSpec, policy: RestartPolicy = RestartPolicy(), logger: Logger,
        onRunning: @escaping Hook = { _ in }, onExit: @escaping @Sendable (String) async -> Void = { _ in }
    ) {
        self.name = name
        self.spec = spec
        self.policy = policy
        self.logger = logger
        self.onRunning = onRunning
        self.onExit = onExit
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.supervise()
        }
    }

    func supervise() async {
        var lifecycle = ProcessLifecycle(policy: policy)
        var action = lifecycle.start()
        while !Task.isCancelled {
            switch action {
            case .spawn:
                let (pid, status) = await runOnce()
                if let pid { _ = lifecycle.spawned(pid: pid, at: Self.now()) }
                await onExit(status)
                if Task.isCancelled { return }
                logger.warning("process exited", metadata: ["process": "\(name)", "status": "\(status)"])
                action = lifecycle.exited(at: Self.now(), reason: status)
            case .startAgain(let delay):
                do {
                    try await Task.sleep(for: .seconds(delay))
                } catch {
                    return
                }
                action = lifecycle.start()
            case .giveUp(let reason):
                logger.error("process failed", metadata: ["process": "\(name)", "reason": "\(reason)"])
                return
            case .none, .terminate:
                return
            }
        }
    }

    /// Runs the process until it exits (or the task is cancelled, which stops its group).
    func runOnce() async -> (pid: Int32?, status: String) {
        let spawned = SpawnedPID()
        let onRunning = self.onRunning
        let status = await ProcessRunner.run(spec) { pid in
            spawned.set(pid)
            await onRunning(pid)
        }
        return (spawned.value, Task.isCancelled ? "stopped" : "\(status)")
    }

    static func now() -> Double { Date().timeIntervalSince1970 }
}

/// The pid of the process a run spawned, handed from the run's body to its caller.
final class SpawnedPID: @unchecked Sendable {
    private let lock = NSLock()
    private var pid: Int32?

    func set(_ pid: Int32) { lock.withLock { self.pid = pid } }
    var value: Int32? { lock.withLock { pid } }
}
