import KilnCore
import Logging

/// Jobs on Slurm (`kiln serve --backend slurm`): each attempt an `sbatch` job
/// run as the tool, on the node Slurm picks; see `GridBackend`.
public final class SlurmJobBackend: JobBackend {
    public var name: String { grid.dialect.name }
    let grid: GridBackend<SlurmDialect>

    /// `runner` nil: the grid's real programs (`sbatch`…), as the configuration says.
    public init(
        configuration: GridConfiguration = .slurm(), runner: (any GridCommandRunner)? = nil, runtimes: HostRuntimes = .shared,
        logger: Logger = Logger(label: "kiln.grid.slurm")
    ) {
        grid = GridBackend(
            dialect: SlurmDialect(), configuration: configuration,
            runner: runner ?? SubprocessGridCommandRunner(environment: configuration.commandEnvironment), runtimes: runtimes, logger: logger)
    }

    public func submit(_ submission: JobSubmission) async throws(KilnError) -> JobHandle { try await grid.submit(submission) }
    public func waitForEnd(_ handle: JobHandle) async throws -> ExitStatus { try await grid.waitForEnd(handle) }
    public func isRunning(_ handle: JobHandle) async -> Bool { await grid.isRunning(handle) }
    public func cancel(_ handle: JobHandle, grace: Duration) async { await grid.cancel(handle, grace: grace) }
    public func placement(of handle: JobHandle) async -> GridPlacement? { await grid.placement(of: handle) }
}
