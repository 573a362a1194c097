import Foundation
import KilnCore
import KilnFiles
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The default backend: each attempt is a process group on this machine, spawned as the tool's
/// user in its working directory, with its memory limit and CPU group, output appended to its
/// log files.
///
/// The command runs under a small shell wrapper that writes its exit status to a file the
/// platform made for it (`RuntimeDirectory`), so that an attempt which outlives the platform (a `kill -9` of `kiln serve`) and
/// ends while it is down still reports its exit code once it is adopted.
public final class LocalJobBackend: JobBackend {
    public let name = "local"
    /// Instance name for control groups (the folder of tools' homes, as for webservices), so two
    /// platforms on one host stay apart.
    let instance: String
    let runtimes: HostRuntimes
    /// The attempts this process spawned, by leader pid: their end, from waitpid.
    private let children = Mutex<[String: AttemptEnd]>([:])

    /// Where exit files go; nil when the host gave no folder for them (then nothing can run).
    let runtimeDirectory: RuntimeDirectory?

    /// `runtimeDirectory` nil: `/dev/shm/kiln-TAG`, else `/tmp/kiln-TAG`, when either can be had
    /// as the platform's own.
    public init(instance: String, runtimeDirectory: RuntimeDirectory? = nil, runtimes: HostRuntimes = .shared) {
        self.instance = instance
        self.runtimes = runtimes
        let tag = InstanceTag.of(instance)
        self.runtimeDirectory = runtimeDirectory ?? RuntimeDirectory.prepare(tag: tag, fallback: "/tmp/kiln-\(tag)")
    }

    public func submit(_ submission: JobSubmission) async throws(KilnError) -> JobHandle {
        let runtime = try runtimes.check(submission.image)
        guard let runtimeDirectory else {
            throw KilnError(.unavailable, "this host gave the platform no folder for jobs' exit files (/dev/shm or the data directory)")
        }
        let exitFile = try runtimeDirectory.makeExitFile(
            "run-\(submission.runID).\(submission.attempt).exit", of: submission.tool, owner: FileOwner(submission.user))
        let spec = processSpec(submission, runtime: runtime, exitFile: exitFile)
        let started = AsyncStream<Int32>.makeStream()
        let end = AttemptEnd()
        let leader = Mutex<Int32?>(nil)
        // Not a child of the caller's task: a shutdown of the platform leaves the attempt running.
        Task {
            let status = await ProcessRunner.run(spec) { pid in
                leader.withLock { $0 = pid }
                started.continuation.yield(pid)
                started.continuation.finish()
            }
            started.continuation.finish()
            // What the command left running in its group ends with it, as in a container. Its
            // control groups stay for the job's next run (removed when empty at shutdown).
            if let pid = leader.withLock({ $0 }) { ProcessInspector.signalGroup(pid, SIGKILL) }
            end.finish(status)
        }
        var iterator = started.stream.makeAsyncIterator()
        guard let pid = await iterator.next() else {
            let status = try? await end.wait()
            if case .couldNotStart(let reason)? = status {
                throw KilnError(.unavailable, "the job could not start: \(reason)", context: ["job": submission.job])
            }
            throw KilnError(.unavailable, "the job could not start: \(status.map { "\($0)" } ?? "?")", context: ["job": submission.job])
        }
        let id = String(pid)
        children.withLock { $0[id] = end }
        return JobHandle(backend: name, id: id, processStart: ProcessInspector.startTime(of: pid), exitFile: exitFile)
    }

    public func waitForEnd(_ handle: JobHandle) async throws -> ExitStatus {
        // Whoever learns the end removes the exit file (the spawner may be gone by then).
        func learned(_ status: ExitStatus) -> ExitStatus {
            if let file = handle.exitFile { unlink(file) }
            return status
        }
        if let end = children.withLock({ $0[handle.id] }) {
            let status = try await end.wait()
            _ = children.withLock { $0.removeValue(forKey: handle.id) }
            return learned(status)
        }
        // Not this process's child (it outlived a restart of the platform): watch its pid, then
        // read what its wrapper wrote.
        guard let pid = Int32(handle.id), let start = handle.processStart else { return .unknown }
        try await ProcessInspector.waitForExit(pid: pid, start: start)
        ProcessInspector.signalGroup(pid, SIGKILL)
        return learned(handle.exitFile.flatMap(Self.readExitFile) ?? .unknown)
    }

    public func isRunning(_ handle: JobHandle) async -> Bool {
        if let end = children.withLock({ $0[handle.id] }) { return !end.isFinished }
        guard let pid = Int32(handle.id), let start = handle.processStart else { return false }
        return ProcessInspector.isAlive(pid: pid, start: start)
    }

    public func cancel(_ handle: JobHandle, grace: Duration) async {
        guard let pid = Int32(handle.id) else { return }
        await ProcessInspector.stopGroup(pid, start: handle.processStart ?? ProcessInspector.startTime(of: pid) ?? 0, grace: grace)
    }

    // MARK: Launch

    func processSpec(_ submission: JobSubmission, runtime: HostRuntimes.Found, exitFile: String) -> ProcessSpec {
        let environment = submission.jobEnvironment(runtime: runtime)
        let limits = ResourceLimits(
            memory: submission.memory, cpu: submission.cpu,
            unit: ControlGroupUnit(instance: instance, tool: submission.tool, unit: Self.unitName(of: submission)))
        let spec = ProcessSpec(
            executable: "/bin/sh",
            arguments: ["-c", Self.wrapper, "kiln-job-\(submission.job)", submission.command, exitFile],
            environment: environment, workingDirectory: submission.workingDirectory, user: submission.user,
            standardOutput: submission.output.map { .file(submission.files, $0) } ?? .discard,
            standardError: submission.error.map { .file(submission.files, $0) } ?? .discard, stopGracePeriod: .seconds(5), limits: limits)
        return spec
    }

    /// Runs the command (`$1`) in a subshell with no positional parameters, writes its status
    /// to `$2`, and ends as it ended: a command killed by a signal has its wrapper end by the
    /// same signal, so the runner tells a kill (an out-of-memory kill among them) from an exit
    /// code. One shell and a fork, no further exec, before the command (its limits and user are
    /// set by `ProcessEntry` before the shell starts).
    static let wrapper = """
        __kiln_command=$1 __kiln_exit_file=$2
        ( set --; eval "$__kiln_command" )
        status=$?
        echo "$status" > "$__kiln_exit_file" 2>/dev/null
        if [ "$status" -gt 128 ] && [ "$status" -lt 160 ]; then
          trap - "$((status - 128))" 2>/dev/null
          kill -"$((status - 128))" $$ 2>/dev/null
        fi
        exit "$status"
        """

    /// Removes the folders of exit files that are empty (at a clean shutdown, and after tests), so
    /// that nothing is left once no run is left to adopt.
    /// With `removingFiles` (tests, once no run is left), the exit files go too.
    public func tidy(removingFiles: Bool = false) {
        runtimeDirectory?.tidy(removingFiles: removingFiles)
        ControlGroups.available?.removeEmpty(instanceGroup: ControlGroupUnit.instanceGroup(of: instance))
    }

    /// A job's unit of control groups: the job's (its runs follow one another, so they share it),
    /// or a continuous job's replica's.
    static func unitName(of submission: JobSubmission) -> String {
        submission.environment["KILN_REPLICA"].map { "job-\(submission.job).\($0)" } ?? "job-\(submission.job)"
    }

    static func readExitFile(_ path: String) -> ExitStatus? {
        guard let text = RuntimeDirectory.readExitFile(path),
            let code = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return code > 128 && code < 160 ? .signaled(signal: code - 128) : .exited(code: code)
    }
}
