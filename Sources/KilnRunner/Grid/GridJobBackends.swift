import KilnCore
import Logging

/// The grid backends (`kiln serve --backend gridengine|slurm`): each attempt a grid job run as
/// the tool, on the host the grid picks. One `GridBackend` does the work, in the grid's dialect.
public enum GridJobBackends {
    /// Son of Grid Engine (`qsub`…). `runner` nil: the grid's real programs, as the
    /// configuration says.
    public static func gridEngine(
        configuration: GridConfiguration = .gridEngine(), runner: (any GridCommandRunner)? = nil, runtimes: HostRuntimes = .shared,
        logger: Logger = Logger(label: "kiln.grid.gridengine")
    ) -> any JobBackend {
        GridBackend(
            dialect: GridEngineDialect(), configuration: configuration,
            runner: runner ?? SubprocessGridCommandRunner(environment: configuration.commandEnvironment), runtimes: runtimes, logger: logger)
    }

    /// Slurm (`sbatch`…). `runner` nil: the grid's real programs, as the configuration says.
    public static func slurm(
        configuration: GridConfiguration = .slurm(), runner: (any GridCommandRunner)? = nil, runtimes: HostRuntimes = .shared,
        logger: Logger = Logger(label: "kiln.grid.slurm")
    ) -> any JobBackend {
        GridBackend(
            dialect: SlurmDialect(), configuration: configuration,
            runner: runner ?? SubprocessGridCommandRunner(environment: configuration.commandEnvironment), runtimes: runtimes, logger: logger)
    }
}
