import KilnCore
import KilnProxy
import Logging
import ServiceLifecycle

/// Keeps a proxy's `ProxyRouteCache` current: a few seconds after its table or its notices
/// change (so a burst of changes is one write), and once more at a graceful stop.
struct ProxyRouteCacheWriter: Service {
    let cache: ProxyRouteCache
    let routes: RouteTableReference
    /// The owners the feed stated (nil: not kept, the Unix accounts are asked again).
    let owners: BackendOwners?
    let notices: ToolNotices
    let logger: Logger
    /// Between looks at the table: at most one write per interval.
    var interval: Duration = .seconds(2)

    func run() async throws {
        // What the table holds now was loaded from the cache, or is empty: nothing to write yet.
        var written = (generation: routes.generation, notices: notices.all)
        while !Task.isCancelled {
            let stopping = (try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }) == nil
            let now = (generation: routes.generation, notices: notices.all)
            if now.generation != written.generation || now.notices != written.notices {
                save(notices: now.notices)
                written = now
            }
            if stopping { break }
        }
    }

    private func save(notices: [String: String]) {
        let table = routes.snapshot
        let contents = ProxyRouteCache.Contents(
            routes: table.toolNames.sorted().flatMap { table.routes(of: $0) }, owners: owners?.statedUIDs ?? [:], notices: notices)
        do {
            try cache.save(contents)
        } catch {
            logger.warning("cannot keep the routes for a restart", metadata: ["path": "\(cache.path)", "error": "\(error.message)"])
        }
        // Encoding every route takes several times what the table keeps: give it back.
        RouteFeedService.returnFreedMemory()
    }
}
