import KilnCore
import KilnFiles

/// Where jobs' processes run: the local supervisor, or a batch grid (Son of Grid Engine, Slurm).
/// Kept to what a grid can do, so one monitor drives them all: submit an attempt, ask after it,
/// wait for its end, cancel it. Output goes to the files the submission names (on a grid, the
/// shared home), where `jobs logs` reads it.
public protocol JobBackend: Sendable {
    /// Stored in each handle, so a run is always asked after where it runs.
    var name: String { get }

    /// Starts one attempt of a run; returns once it is running (or queued on a grid).
    func submit(_ submission: JobSubmission) async throws(KilnError) -> JobHandle

    /// Waits for the attempt to end and says how. Cancelling the waiting task stops the wait,
    /// not the attempt (a shutdown of the platform leaves runs going, to be adopted).
    func waitForEnd(_ handle: JobHandle) async throws -> ExitStatus

    /// Whether the attempt still runs (after a restart of the platform, before adopting it).
    func isRunning(_ handle: JobHandle) async -> Bool

    /// Stops the attempt and everything it started: TERM, and KILL after `grace`.
    func cancel(_ handle: JobHandle, grace: Duration) async

    /// Where the attempt runs, for `jobs show`: a grid's job id, queue, execution host and state
    /// as the grid says now (the handle's when it cannot be asked); nil for a local attempt.
    func placement(of handle: JobHandle) async -> GridPlacement?
}

extension JobBackend {
    public func placement(of handle: JobHandle) async -> GridPlacement? { handle.grid }
}

/// One attempt of a job's run, as a backend is asked to start it.
public struct JobSubmission: Sendable, Hashable {
    public var tool: ToolName
    public var job: String
    public var runID: Int64
    public var attempt: Int
    /// Shell: run by `/bin/sh -c` in `workingDirectory`.
    public var command: String
    public var image: JobImage
    /// Run as this user (when the platform runs as root).
    public var user: UnixIdentity?
    public var home: String
    public var workingDirectory: String
    /// Where the streams go in the tool's home; nil discards the stream.
    public var output: HomePath?
    public var error: HomePath?
    public var memory: MemorySize
    public var cpu: CPUQuantity
    /// nil for a continuous job; a grid is told it as the run's hard limit.
    public var timeout: Int?
    /// The platform's variables for this run (its port, its replica), over everything else.
    public var environment: [String: String]
    /// The tool's envvars: over the defaults (PATH, LANG), under the platform's variables.
    public var toolEnvironment: [String: String]

    public init(
        tool: ToolName, job: String, runID: Int64, attempt: Int, command: String, image: JobImage, user: UnixIdentity?,
        home: String, workingDirectory: String, output: HomePath?, error: HomePath?, memory: MemorySize,
        cpu: CPUQuantity, timeout: Int?, environment: [String: String], toolEnvironment: [String: String] = [:]
    ) {
        self.toolEnvironment = toolEnvironment
        self.tool = tool
        self.job = job
        self.runID = runID
        self.attempt = attempt
        self.command = command
        self.image = image
        self.user = user
        self.home = home
        self.workingDirectory = workingDirectory
        self.output = output
        self.error = error
        self.memory = memory
        self.cpu = cpu
        self.timeout = timeout
        self.environment = environment
    }
}

extension JobSubmission {
    /// The tool's home, reached as the tool's own.
    public var files: ConfinedDirectory { ConfinedDirectory(path: home, owner: FileOwner(user)) }
}
