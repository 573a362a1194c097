import KilnAPI
import KilnCore
import KilnProxy
import Logging
import ServiceLifecycle
import CKilnSystem

/// Keeps a proxy's in-memory route table current: applies every change its source pushes.
struct RouteFeedService: Service {
    static func returnFreedMemory() {
        _ = ckiln_malloc_trim()
    }

    let name: String
    /// The table of a proxy in this process; nil when the proxy is a process of its own.
    let routes: RouteTableReference?
    /// Learns whose listeners the changed tools' backends must be, before the table has them.
    let owners: BackendOwners
    /// The control plane's feed to proxies of their own, told every change (with its owners).
    let hub: RouteFeedHub?
    let changes: @Sendable () async throws -> AsyncStream<RouteChange>
    let logger: Logger
    /// Called once the first snapshot is applied: the table routes as its source does (a proxy
    /// listens only then, so its first answers are not 503s for tools it has not read yet).
    var onSynchronized: @Sendable () -> Void = {}

    func run() async throws {
        let stream = try await changes()
        await cancelWhenGracefulShutdown {
            var synchronized = false
            for await change in stream {
                await owners.prepare(for: change)
                if let routes { report(refused: routes.apply(change)) }
                hub?.apply(change) { owners.owner(of: $0) }
                if case .snapshot(let all) = change {
                    if !synchronized {
                        synchronized = true
                        onSynchronized()
                    }
                    logger.debug("route snapshot", metadata: ["source": "\(name)", "routes": "\(all.count)"])
                    // Building a full table (and reading it) takes several times the memory the
                    // table keeps; give the difference back rather than hold it as the peak.
                    Self.returnFreedMemory()
                }
            }
        }
    }

    /// Routes a change brought that the table left out (written by other software: the API
    /// refuses them), logged when the change arrives. A periodic resync finds routes past the
    /// limits unchanged, so they are not logged again until they change.
    func report(refused: [KilnError]) {
        let shown = 10
        for error in refused.prefix(shown) {
            logger.warning(
                "route left out: \(error.message)",
                metadata: ["source": "\(name)", "tool": "\(error.context["tool"] ?? "")"])
        }
        if refused.count > shown {
            logger.warning("\(refused.count - shown) more routes left out", metadata: ["source": "\(name)"])
        }
    }
}

import KilnStore

extension RouteFeedService {
    /// The embedded store's feed: subscribe first, then the snapshot, so no change falls between.
    static func fromStore(
        _ store: KilnStore, routes: RouteTableReference?, owners: BackendOwners, hub: RouteFeedHub? = nil, logger: Logger
    ) -> RouteFeedService {
        RouteFeedService(name: "store", routes: routes, owners: owners, hub: hub, changes: {
            let updates = store.routeUpdates()
            let snapshot = try await store.routes()
            return AsyncStream { continuation in
                continuation.yield(.snapshot(snapshot))
                let task = Task {
                    for await change in updates { continuation.yield(change) }
                    continuation.finish()
                }
                continuation.onTermination = { _ in task.cancel() }
            }
        }, logger: logger)
    }
}
