import Foundation
import KilnCore
import Logging
import ServiceLifecycle
import Subprocess
import SystemPackage

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
        do {
            let output = try Self.openLog(spec.standardOutputPath, owner: spec.user)
            let error = try Self.openLog(spec.standardErrorPath, owner: spec.user)
            var options = PlatformOptions()
            options.processGroupID = 0
            if let user = spec.user {
                options.userID = user.uid
                options.groupID = user.gid
                options.supplementaryGroups = []
            }
            options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: spec.stopGracePeriod)]
            let onRunning = self.onRunning
            let result = try await Subprocess.run(
                .path(FilePath(spec.executable)),
                arguments: Arguments(spec.arguments),
                environment: .custom(spec.environment.reduce(into: [:]) { $0[.init(stringLiteral: $1.key)] = $1.value }),
                workingDirectory: FilePath(spec.workingDirectory),
                platformOptions: options,
                input: .none,
                output: .fileDescriptor(output, closeAfterSpawningProcess: true),
                error: .fileDescriptor(error, closeAfterSpawningProcess: true)
            ) { execution in
                // After the body, `run` waits for the process; cancelling the task runs the
                // teardown sequence on the whole process group.
                await onRunning(execution.processIdentifier.value)
                return execution.processIdentifier.value
            }
            return (result.closureResult, "\(result.terminationStatus)")
        } catch is CancellationError {
            return (nil, "stopped")
        } catch {
            return (nil, "could not start: \(error)")
        }
    }

    static func openLog(_ path: String, owner: UnixIdentity?) throws -> FileDescriptor {
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = try FileDescriptor.open(
            FilePath(path), .writeOnly, options: [.create, .append], permissions: [.ownerReadWrite, .groupRead])
        if let owner { fchown(fd.rawValue, owner.uid, owner.gid) }
        return fd
    }

    static func now() -> Double { Date().timeIntervalSince1970 }
}
