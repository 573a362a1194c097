import KilnCore
import KilnRunner

/// Webservices on a batch grid, as the seed's webgrid ran them: each replica a grid job running
/// `kiln run-webservice` as the tool on the host the grid picks, which registers its server's
/// `HOST:PORT` with the control plane at `controlPlane`.
public struct GridWebservices: Sendable {
    public var backend: any JobBackend
    /// Where runners on the execution hosts reach the control-plane API.
    public var controlPlane: HostPort
    /// How long the grid may keep a new replica's job queued, on top of the server's start
    /// timeout, before the replica counts as not starting.
    public var queueAllowance: Duration
    /// The ports of the platform's own listeners on this machine (the API, the proxy): a replica
    /// the grid runs here may not name one of them as its server.
    public var platformPorts: Set<Int>

    public init(backend: any JobBackend, controlPlane: HostPort, platformPorts: Set<Int> = [], queueAllowance: Duration = .seconds(30)) {
        self.backend = backend
        self.controlPlane = controlPlane
        self.platformPorts = platformPorts
        self.queueAllowance = queueAllowance
    }
}
