import Foundation
import KilnCore
import KilnFiles
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Runs one process of a tool: in its own process group, as the tool's user, in its home, with
/// its output appended to log files and its limits applied; and returns how it ended.
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
            let entry = try spec.limits?.prepare(owner: FileOwner(spec.user), workingDirectory: spec.workingDirectory)
            let (limited, limitedArguments) = Self.entering(spec, entry)
            let (executable, arguments) = spec.user.map { Self.asUser($0, limited, limitedArguments) } ?? (limited, limitedArguments)
            let result = try await Subprocess.run(
                .path(FilePath(executable)),
                arguments: Arguments(arguments),
                environment: .custom(spec.environment.reduce(into: [:]) { $0[.init(stringLiteral: $1.key)] = $1.value }),
                workingDirectory: FilePath(Self.spawnDirectory(spec)),
                platformOptions: options,
                input: .none,
                output: .fileDescriptor(output, closeAfterSpawningProcess: true),
                error: .fileDescriptor(error, closeAfterSpawningProcess: true)
            ) { execution in
                let pid = execution.processIdentifier.value
                if entry?.placeAfterSpawn == true, let limits = spec.limits, let groups = limits.controlGroups, let unit = limits.unit {
                    do {
                        try groups.place(pid, in: unit)
                    } catch {
                        // Said where the tool's maintainers look.
                        appendLine("kiln: \(error)", to: spec.standardError)
                    }
                }
                await whileRunning(pid)
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

    /// Where the process is spawned. A tool's process (run as its user) starts in `/` and its first
    /// shell, already the tool, enters the working folder: the spawn's `chdir` runs as root, and
    /// would follow a link the tool put on the way to its home's folders.
    static func spawnDirectory(_ spec: ProcessSpec) -> String {
        spec.user == nil ? spec.workingDirectory : "/"
    }

    /// Enters the working folder as the tool, for a process without limits (with limits, the
    /// entry shell does).
    static let enterFolder = #"cd -- "$1" 2>/dev/null || { echo "kiln: cannot enter the folder $1" >&2; exit 125; }; shift; exec "$@""#

    /// The program and arguments with the entry into its folder and limits before it.
    static func entering(_ spec: ProcessSpec, _ entry: ResourceLimits.Entry?) -> (String, [String]) {
        guard let limits = spec.limits, let entry else {
            guard spec.user != nil else { return (spec.executable, spec.arguments) }
            return ("/bin/sh", ["-c", enterFolder, "kiln-folder", spec.workingDirectory, spec.executable] + spec.arguments)
        }
        switch spec.limitEntry {
        case .entryShell:
            return limits.wrapping(spec.executable, spec.arguments, entry: entry)
        case .ownScript:
            let head = spec.arguments.prefix(3)
            return (spec.executable, Array(head) + entry.arguments + spec.arguments.dropFirst(3))
        }
    }

    public static let setprivPath = "/usr/bin/setpriv"

    /// Runs the program as `user` through util-linux `setpriv`, which drops to the user's uid and
    /// gid (no supplementary groups) in a fresh single-threaded process before it execs.
    ///
    /// Not Subprocess's own user switch: it changes ids in a child forked with a raw `clone3` from
    /// this multi-threaded process, where glibc's `setgroups`/`setuid` wait for the parent's other
    /// threads (which do not exist in the child) and could hang forever, leaving a half-started
    /// copy of the server instead of the tool's process.
    static func asUser(_ user: UnixIdentity, _ executable: String, _ arguments: [String]) -> (String, [String]) {
        (setprivPath, ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--", executable] + arguments)
    }

    /// Appends a line of the platform's to a stream of the process (a limit it could not set).
    static func appendLine(_ line: String, to destination: OutputDestination) {
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
