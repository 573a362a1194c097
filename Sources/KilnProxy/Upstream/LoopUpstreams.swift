import KilnCore
import KilnSocketOwners
import NIOCore

/// One event loop's side towards the backends: its copy of the route table, which picks a
/// request's backends, a connection pool per codec (the general path speaks NIOHTTP1's parts, the
/// fast path bytes) and the loop's balancing state, which both share.
final class LoopUpstreams: @unchecked Sendable {
    // Sendable only so each loop's connection initialisers can carry it: every use is on its own
    // event loop.
    let routes: LoopRouteTable
    let general: UpstreamPool<UpstreamHandler>
    let fast: UpstreamPool<RawUpstreamHandler>
    /// Outstanding requests and ejections of this loop's backends.
    var selector: BackendSelector
    /// This loop's request and upstream counters.
    let metrics = LoopMetrics()

    init(
        eventLoop: any EventLoop, routes: RouteTableReference, connectTimeout: TimeAmount,
        ejectionCooldown: TimeAmount = .seconds(10)
    ) {
        self.routes = LoopRouteTable(routes)
        let socketOwners = SocketOwnerLookup()
        general = UpstreamPool(eventLoop: eventLoop, connectTimeout: connectTimeout, socketOwners: socketOwners)
        fast = UpstreamPool(eventLoop: eventLoop, connectTimeout: connectTimeout, socketOwners: socketOwners)
        selector = BackendSelector(cooldown: ejectionCooldown)
    }

    /// A lone backend is taken as it is; a group's is chosen by the loop's selector.
    func choose(_ group: BackendGroup, excluding failed: [BackendAddress], generation: UInt64) -> BackendAddress? {
        if let single = group.single { return failed.isEmpty ? single : nil }
        return selector.select(from: group, excluding: failed, generation: generation, now: .now())
    }
}

/// The backend an exchange of a balanced group is counted on as outstanding, until it finishes.
struct OutstandingRequest {
    private var backend: BackendAddress?

    mutating func start(on backend: BackendAddress, in upstreams: LoopUpstreams) {
        if let previous = self.backend { upstreams.selector.finished(previous) }
        upstreams.selector.started(backend)
        self.backend = backend
    }

    mutating func end(in upstreams: LoopUpstreams) {
        guard let backend else { return }
        self.backend = nil
        upstreams.selector.finished(backend)
    }
}
