import NIOCore
import Synchronization

/// What every connection of one proxy shares: its configuration, the route table, the tools'
/// notices, the access log, whose listeners tools' backends must be, the front page, its open
/// connections and whether it is draining them.
final class ProxyShared: Sendable {
    let configuration: ProxyConfiguration
    let routes: RouteTableReference
    let notices: ToolNotices
    let accessLog: AccessLog?
    let owners: BackendOwners
    /// `/`'s page; nil where no control plane lists the tools (a proxy fed from Redis alone).
    let frontPage: FrontPage?
    let connections = ConnectionRegistry()
    let clientLimits: ClientLimits
    private let drainingFlag = Atomic<Bool>(false)

    /// Once set, every response closes its connection (`Connection: close`).
    var isDraining: Bool { drainingFlag.load(ordering: .relaxed) }

    /// Whether a request's connection stays open after its exchange.
    func keepsAlive(_ requested: Bool) -> Bool { requested && !isDraining }

    /// Whether a request may go on: refused without a User-Agent (when required), or past its
    /// address's rate. `hasUserAgent` is asked only when it matters.
    func clientRefusal(address: ClientAddress?, hasUserAgent: () -> Bool) -> LocalResponse? {
        if configuration.clientLimits.requiresUserAgent, !hasUserAgent() { return .userAgentRequired }
        if let address, !clientLimits.admitsRequest(from: address) { return .tooManyRequests }
        return nil
    }

    /// What `/` gets: the front page for GET and HEAD, once it is ready; else nothing is there.
    func frontPageDecision(isRead: Bool, closeAfter: Bool) -> RoutingDecision {
        guard frontPage != nil, isRead else { return .respond(.notFound, closeAfter: closeAfter) }
        return .respondLater(closeAfter: closeAfter)
    }

    /// Hands the front page to `ready` on `loop` (at once when it is kept fresh).
    func withFrontPage(on loop: any EventLoop, _ ready: @escaping (LocalResponse) -> Void) {
        guard let frontPage else { return ready(.notFound) }
        frontPage.response(on: loop).assumeIsolated().whenSuccess(ready)
    }

    func beginDraining() {
        drainingFlag.store(true, ordering: .relaxed)
        connections.drain()
    }

    init(
        configuration: ProxyConfiguration, routes: RouteTableReference, notices: ToolNotices, accessLog: AccessLog?,
        owners: BackendOwners, frontPage: FrontPage? = nil
    ) {
        self.owners = owners
        self.frontPage = frontPage
        self.clientLimits = ClientLimits(policy: configuration.clientLimits)
        self.configuration = configuration
        self.routes = routes
        self.notices = notices
        self.accessLog = accessLog
    }
}
