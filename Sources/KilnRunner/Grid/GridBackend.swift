import KilnCore
import KilnFiles
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A `JobBackend` on a batch grid, whichever: each attempt is a grid job that runs a wrapper
/// script from the tool's (shared) home as the tool's user, on whatever host the grid picks.
/// The grid's own differences are its `Dialect`'s.
///
/// - Submission: the wrapper and the job's environment are written into the home (the tool's
///   files, through `ConfinedDirectory`), then `qsub`/`sbatch` runs as the tool (never as root)
///   with the job's name, limits and queue; no envvar's value is ever in its arguments.
/// - The end: the wrapper's exit file, else the grid's accounting, else the grid's last word;
///   one queue listing a poll serves every waiting attempt (`GridQueueWatch`).
/// - A grid that cannot be reached is `KilnError.gridUnreachable` at submission (retryable);
///   a waiting attempt keeps waiting, looking less often.
final class GridBackend<Dialect: GridDialect>: JobBackend {
    var name: String { dialect.name }
    let dialect: Dialect
    let client: GridClient
    let configuration: GridConfiguration
    let runtimes: HostRuntimes
    let logger: Logger
    let watch: GridQueueWatch
    /// Ends learnt by this process, by job id: a second waiter (or `isRunning` after the end)
    /// knows without asking, once the attempt's files are gone. The latest few thousand.
    private let ended = Mutex<[String: ExitStatus]>([:])
    static var endedKept: Int { 4096 }

    init(dialect: Dialect, configuration: GridConfiguration, runner: any GridCommandRunner, runtimes: HostRuntimes, logger: Logger) {
        self.dialect = dialect
        self.configuration = configuration
        self.runtimes = runtimes
        self.logger = logger
        let client = GridClient(
            grid: dialect.name, runner: runner, configuration: configuration, logger: logger,
            isUnreachable: { [dialect] in dialect.isUnreachable($0) })
        self.client = client
        watch = GridQueueWatch(maximumAge: configuration.listingMaximumAge) { [dialect] () async throws(KilnError) -> GridQueueListing in
            let result = try await client.run(dialect.listCommand)
            guard result.succeeded else {
                throw KilnError(.unavailable, "\(dialect.listCommand.program) failed: \(result.said)", context: ["grid": "unreadable"])
            }
            var listing = try dialect.parseListing(result.output)
            // Lost hosts are a second word: not having it changes nothing (the grid's own rules hold).
            if let command = dialect.lostHostsCommand, let lost = try? await client.run(command), lost.succeeded {
                listing.lostHosts = dialect.parseLostHosts(lost.output)
            }
            return listing
        }
    }

    // MARK: Submit

    func submit(_ submission: JobSubmission) async throws(KilnError) -> JobHandle {
        guard submission.user != nil || geteuid() != 0 else {
            throw KilnError(.forbidden, "refusing to submit a tool's job as root: the tool has no Unix user", context: ["job": submission.job])
        }
        let runtime = try runtimes.check(submission.image)
        let files = GridAttemptFiles(home: submission.files, runID: submission.runID, attempt: submission.attempt)
        let name = GridJobName(submission)
        let label = "tool \(submission.tool), job \(submission.job), run \(submission.runID) attempt \(submission.attempt)"
        // The log files exist, the tool's, before the wrapper appends to them as the tool.
        for stream in [submission.output, submission.error].compactMap({ $0 }) {
            close(try submission.files.openForAppending(stream))
        }
        let script = GridWrapperScript(
            command: submission.command, workingDirectory: submission.workingDirectory,
            output: submission.output.map { $0.absolute(in: submission.home) }, error: submission.error.map { $0.absolute(in: submission.home) },
            environmentFile: files.path(files.environment), exitFile: files.path(files.exit), label: label)
        try files.write(
            wrapper: try script.text(),
            environment: try GridWrapperScript.environmentFile(submission.jobEnvironment(runtime: runtime), label: label))
        let command = dialect.submitCommand(submission, name: name, wrapper: files.path(files.wrapper), configuration: configuration)
        let result: GridCommand.Result
        do {
            result = try await client.run(command)
        } catch {
            files.remove()
            logger.warning("a grid job could not be submitted", metadata: ["job": "\(name)", "error": "\(error.message)"])
            throw error
        }
        guard result.succeeded, let jobID = dialect.jobID(submitted: result.output) else {
            files.remove()
            if result.succeeded {
                throw KilnError(.unavailable, "\(command.program) said no job id: \(result.said)", context: ["grid": "unreadable"])
            }
            throw KilnError.gridRefused("\(command.program): \(result.said)", grid: dialect.name)
        }
        logger.info("submitted a grid job", metadata: ["job": "\(name)", "grid_job": "\(jobID)"])
        let placement = GridPlacement(
            jobID: jobID, queue: configuration.queue, state: GridJobState.pending(reason: nil).word, user: submission.user,
            home: submission.home, attempt: files.name, memory: submission.memory)
        return JobHandle(backend: dialect.name, id: jobID, grid: placement)
    }

    // MARK: The end

    func waitForEnd(_ handle: JobHandle) async throws -> ExitStatus {
        if let known = ended.withLock({ $0[handle.id] }) { return known }
        guard let placement = handle.grid else { return .unknown }
        let files = GridAttemptFiles(placement: placement)
        var lifecycle = GridAttemptLifecycle(memory: placement.memory ?? MemorySize(bytes: 0), configuration: configuration)
        var action = GridAttemptLifecycle.Action.look(after: .zero)
        while true {
            switch action {
            case .look(let after):
                if after > .zero { try await Task.sleep(for: after) }
                action = lifecycle.observe(await look(placement.jobID, files), now: .now)
            case .askAccounting:
                let status: ExitStatus?
                do {
                    status = try await dialect.accounting(of: placement.jobID, memory: lifecycle.memory, client: client)
                } catch {
                    // The listing answered without the job: accounting that cannot be asked
                    // counts as not knowing, and the lifecycle's patience runs.
                    status = nil
                }
                // The exit file, if it came meanwhile, says more than accounting.
                if let exit = files.readExit() {
                    action = lifecycle.observe(.exitFile(exit), now: .now)
                } else {
                    action = lifecycle.observe(.accounting(status), now: .now)
                }
            case .removeLost(let host):
                do {
                    try await dialect.removeLost(placement.jobID, client: client)
                    logger.warning("removed a grid job whose host stopped answering", metadata: ["grid_job": "\(placement.jobID)", "host": "\(host)"])
                    action = lifecycle.observe(.lostWithHost(host), now: .now)
                } catch {
                    action = lifecycle.observe(.unreachable, now: .now)
                }
            case .removeBroken:
                do {
                    let reason = try await dialect.removeBroken(placement.jobID, as: placement.user, client: client)
                    logger.warning("removed a grid job stuck in an error state", metadata: ["grid_job": "\(placement.jobID)", "reason": "\(reason ?? "?")"])
                    action = lifecycle.observe(.removed(reason: reason), now: .now)
                } catch {
                    action = lifecycle.observe(.unreachable, now: .now)
                }
            case .finish(let status):
                remember(status, of: placement.jobID)
                files.remove()
                return status
            }
        }
    }

    /// The exit file, else the listing (then the exit file again: it may have been written
    /// while the listing was taken, and a job the listing does not have ended before it began).
    private func look(_ jobID: String, _ files: GridAttemptFiles) async -> GridAttemptLifecycle.Observation {
        if let exit = files.readExit() { return .exitFile(exit) }
        let listing: GridQueueListing
        do {
            listing = try await watch.listing()
        } catch {
            if let exit = files.readExit() { return .exitFile(exit) }
            return .unreachable
        }
        if let exit = files.readExit() { return .exitFile(exit) }
        let entry = listing[jobID]
        if let host = entry?.host, listing.lostHosts.contains(host) { return .listingOnLostHost(entry) }
        return .listing(entry)
    }

    private func remember(_ status: ExitStatus, of jobID: String) {
        ended.withLock { ended in
            if ended.count >= Self.endedKept { ended.removeAll(keepingCapacity: true) }
            ended[jobID] = status
        }
    }

    func isRunning(_ handle: JobHandle) async -> Bool {
        guard ended.withLock({ $0[handle.id] }) == nil, let placement = handle.grid else { return false }
        let files = GridAttemptFiles(placement: placement)
        switch await look(placement.jobID, files) {
        case .exitFile: return false
        // On a lost host: still the grid's until it (or the wait) removes it.
        case .listing(let entry), .listingOnLostHost(let entry): return entry.map { !$0.state.isFinished } ?? false
        // Not known: counted as running, so that nothing is started twice.
        case .unreachable: return true
        case .accounting, .removed, .lostWithHost: return false
        }
    }

    // MARK: Cancel, placement

    func cancel(_ handle: JobHandle, grace: Duration) async {
        guard let placement = handle.grid, ended.withLock({ $0[handle.id] }) == nil else { return }
        let files = GridAttemptFiles(placement: placement)
        let state = try? await watch.listing()[placement.jobID]?.state
        let hasEnded: @Sendable () async -> Bool = { [self] in await !isRunning(handle) || files.readExit() != nil }
        do {
            try await dialect.cancel(placement.jobID, as: placement.user, grace: grace, client: client, state: state, hasEnded: hasEnded)
        } catch {
            logger.warning("a grid job could not be cancelled", metadata: ["grid_job": "\(placement.jobID)", "error": "\(error.message)"])
        }
    }

    func placement(of handle: JobHandle) async -> GridPlacement? {
        guard var placement = handle.grid else { return nil }
        if ended.withLock({ $0[handle.id] }) != nil { return placement }
        guard let entry = try? await watch.listing()[placement.jobID] else { return placement }
        placement.host = entry.host ?? placement.host
        placement.queue = entry.queue ?? placement.queue
        placement.state = entry.state.word
        placement.reason = entry.state.reason
        return placement
    }
}
