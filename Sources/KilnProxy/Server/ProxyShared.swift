import Synchronization

/// What every connection of one proxy shares: its configuration, the route table, the tools'
/// notices, the access log, whose listeners tools' backends must be, its open connections and
/// whether it is draining them.
final class ProxyShared: Sendable {
    let configuration: ProxyConfiguration
    let routes: RouteTableReference
    let notices: ToolNotices
    let accessLog: AccessLog?
    let owners: BackendOwners
    let connections = ConnectionRegistry()
    private let drainingFlag = Atomic<Bool>(false)

    /// Once set, every response closes its connection (`Connection: close`).
    var isDraining: Bool { drainingFlag.load(ordering: .relaxed) }

    /// Whether a request's connection stays open after its exchange.
    func keepsAlive(_ requested: Bool) -> Bool { requested && !isDraining }

    func beginDraining() {
        drainingFlag.store(true, ordering: .relaxed)
        connections.drain()
    }

    init(
        configuration: ProxyConfiguration, routes: RouteTableReference, notices: ToolNotices, accessLog: AccessLog?,
        owners: BackendOwners
    ) {
        self.owners = owners
        self.configuration = configuration
        self.routes = routes
        self.notices = notices
        self.accessLog = accessLog
    }
}
