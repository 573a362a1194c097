import KilnCore
import Logging

/// Jobs on Son of Grid Engine (`kiln serve --backend gridengine`): each attempt a `qsub` job
/// run as the tool, on the host SGE picks; see `GridBackend`.
public final class GridEngineJobBackend: JobBackend {
    public var name: String { grid.dialect.name }
    let grid: GridBackend<GridEngineDialect>

    /// `runner` nil: the grid's real programs (`qsub`…), as the configuration says.
    public init(
        configuration: GridConfiguration = .gridEngine(), runner: (any GridCommandRunner)? = nil, runtimes: HostRuntimes = .shared,
        logger: Logger = Logger(label: "kiln.grid.gridengine")
    ) {
        grid = GridBackend(
            dialect: GridEngineDialect(), configuration: configuration,
            runner: runner ?? SubprocessGridCommandRunner(environment: configuration.commandEnvironment), runtimes: runtimes, logger: logger)
    }

    public func submit(_ submission: JobSubmission) async throws(KilnError) -> JobHandle { try await grid.submit(submission) }
    public func waitForEnd(_ handle: JobHandle) async throws -> ExitStatus { try await grid.waitForEnd(handle) }
    public func isRunning(_ handle: JobHandle) async -> Bool { await grid.isRunning(handle) }
    public func cancel(_ handle: JobHandle, grace: Duration) async { await grid.cancel(handle, grace: grace) }
    public func placement(of handle: JobHandle) async -> GridPlacement? { await grid.placement(of: handle) }
}
