import KilnCore
import KilnFiles
import KilnRunner

/// Where `kiln serve` runs jobs: on this machine, or as jobs of a batch grid that picks a host
/// for each (the tools' homes shared with every host, as NFS shares them).
public enum JobBackendChoice: Sendable, Hashable {
    case local
    /// Son of Grid Engine; `queue` nil for its default.
    case gridEngine(queue: String?)
    /// Slurm; `partition` nil for its default.
    case slurm(partition: String?)

    /// The backend, for a platform whose tools' homes are in `toolsDirectory`.
    func make(toolsDirectory: String, runtimeDirectory: RuntimeDirectory?) -> any JobBackend {
        switch self {
        case .local: LocalJobBackend(instance: toolsDirectory, runtimeDirectory: runtimeDirectory)
        case .gridEngine(let queue): GridJobBackends.gridEngine(configuration: .gridEngine(queue: queue))
        case .slurm(let partition): GridJobBackends.slurm(configuration: .slurm(partition: partition))
        }
    }
}
