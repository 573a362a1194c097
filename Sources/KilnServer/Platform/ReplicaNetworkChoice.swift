import KilnCore
import KilnRunner
import Logging

/// Whether replicas of built images get networks of their own, where each listens on port 8000
/// as on Toolforge (`ReplicaNetworks`), or share the host's, each on a port the platform gives it.
public enum ReplicaNetworkChoice: Sendable, Hashable {
    /// Networks of their own where this host can make them (root, iproute2, nftables); the
    /// host's otherwise, said at start.
    case auto(ReplicaSubnet)
    /// Networks of their own, or the platform does not start.
    case namespaces(ReplicaSubnet)
    /// The host's network.
    case host

    /// The networks, readied on this host; nil for the host's network. On a grid, replicas run
    /// where the grid puts them, on the execution host's network.
    func make(for backend: JobBackendChoice, instance: String, logger: Logger) async throws(KilnError) -> ReplicaNetworks? {
        switch backend {
        case .local: break
        case .gridEngine, .slurm: return nil
        }
        switch self {
        case .host:
            return nil
        case .namespaces(let subnet):
            return try await ReplicaNetworks.prepare(subnet: subnet, instance: instance, logger: logger)
        case .auto(let subnet):
            do {
                let networks = try await ReplicaNetworks.prepare(subnet: subnet, instance: instance, logger: logger)
                logger.notice("buildservice replicas get networks of their own and listen on port 8000", metadata: ["subnet": "\(subnet)"])
                return networks
            } catch {
                logger.notice(
                    "buildservice replicas share the host's network, each on a port of its own ($PORT)",
                    metadata: ["why": "\(error.message)"])
                return nil
            }
        }
    }
}
