import Foundation
import KilnCore
import KilnFiles
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Runs one process of a tool: in its own process group, as the tool's user, in its home, with
/// its output appended to log files and its limits applied (through `ProcessEntry`); and returns
/// how it ended.
public enum ProcessRunner {
    /// Runs `spec` until the process exits. `whileRunning` is called with the pid once it runs;
    /// the process may outlive it. Cancelling the calling task stops the whole process group
    /// (TERM, then KILL after the spec's grace period), so no orphan survives a stop.
    public static func run(_ spec: ProcessSpec, whileRunning: @escaping @Sendable (Int32) async -> Void = { _ in }) async -> ExitStatus {
        // The last word on identity: a tool's code never runs as root (a tool with no Unix user
        // runs only under a server that is not root: single-user mode).
        guard spec.user != nil || geteuid() != 0 else {
            return .couldNotStart(reason: "refusing to run a tool's process as root: the tool has no Unix user")
        }
        do {
            let output = try open(spec.standardOutput)
            let error: FileDescriptor
            do {
                error = try open(spec.standardError)
            } catch {
                try? output.close()
                throw error
            }
            var options = PlatformOptions()
            options.processGroupID = 0
            options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: spec.stopGracePeriod)]
            let entry = try spec.limits?.prepare()
            let (executable, arguments) = ProcessEntry.command(for: spec, entry: entry, helper: try ProcessEntry.helper())
            let result = try await Subprocess.run(
                .path(FilePath(executable)),
                arguments: Arguments(arguments),
                environment: .custom(spec.environment.reduce(into: [:]) { $0[.init(stringLiteral: $1.key)] = $1.value }),
                workingDirectory: FilePath(ProcessEntry.spawnDirectory(for: spec, entry: entry)),
                platformOptions: options,
                input: .none,
                output: .fileDescriptor(output, closeAfterSpawningProcess: true),
                error: .fileDescriptor(error, closeAfterSpawningProcess: true)
            ) { execution in
                await whileRunning(execution.processIdentifier.value)
            }
            switch result.terminationStatus {
            case .exited(let code): return .exited(code: code)
            case .signaled(let signal):
                if signal == SIGKILL, let limits = spec.limits, let entry, limits.wasOutOfMemory(since: entry) {
                    appendLine("kiln: killed by the kernel for using more than its memory limit (\(limits.memory))", to: spec.standardError)
                    return .outOfMemory(limit: limits.memory)
                }
                return .signaled(signal: signal)
            }
        } catch is CancellationError {
            return .signaled(signal: SIGTERM)
        } catch {
            return .couldNotStart(reason: "\(error)")
        }
    }

    /// Appends a line of the platform's to a stream of the process (a limit it could not set).
    public static func appendLine(_ line: String, to destination: OutputDestination) {
        guard case .file(let directory, let path) = destination,
            let descriptor = try? directory.openForAppending(path)
        else { return }
        defer { close(descriptor) }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    /// Opens a stream's file for appending, through the tool's home (never by path: see
    /// `ConfinedDirectory`), or /dev/null.
    static func open(_ destination: OutputDestination) throws -> FileDescriptor {
        switch destination {
        case .discard:
            return try FileDescriptor.open(FilePath("/dev/null"), .writeOnly)
        case .file(let directory, let path):
            return FileDescriptor(rawValue: try directory.openForAppending(path))
        }
    }
}
