import Foundation
import KilnCore
import Synchronization

/// The control plane's side of the route feed: the routes, owners and notices as they are now,
/// numbered changes, and the proxies following them. A proxy that reconnects says where it left
/// off and gets only what it missed while the hub still remembers it (the last
/// `rememberedChanges`), else a snapshot; a restarted control plane is a new epoch, so its
/// proxies resync from a snapshot (which they apply as a difference: nothing is dropped).
public final class RouteFeedHub: Sendable {
    public static let rememberedChanges = 4096

    struct State {
        var position: RouteFeedPosition
        var routes: [String: [Route]] = [:]
        var owners: [String: UInt32] = [:]
        var notices: [String: String] = [:]
        /// The last changes, oldest first, each numbered by its version.
        var recent: [RouteFeedMessage] = []
        var followers: [UUID: AsyncStream<RouteFeedMessage>.Continuation] = [:]
    }

    private let state: Mutex<State>

    public init(epoch: String = UUID().uuidString.lowercased()) {
        state = Mutex(State(position: RouteFeedPosition(epoch: epoch, version: 0)))
    }

    public var position: RouteFeedPosition { state.withLock { $0.position } }

    /// Takes a change of the routes with the owners of the tools it names (`.anyone`: not
    /// checked). A full resync becomes one change per tool that differs.
    public func apply(_ change: RouteChange, owners: (String) -> BackendOwner) {
        state.withLock { state in
            switch change {
            case .replaced(let tool, let routes):
                Self.replace(tool, with: routes, owner: Self.uid(owners(tool)), in: &state)
            case .snapshot(let all):
                var grouped: [String: [Route]] = [:]
                for route in all { grouped[route.tool, default: []].append(route) }
                for tool in Set(state.routes.keys).union(grouped.keys).sorted() {
                    let owner = Self.uid(owners(tool))
                    if state.routes[tool] ?? [] != grouped[tool] ?? [] || state.owners[tool] != owner {
                        Self.replace(tool, with: grouped[tool] ?? [], owner: owner, in: &state)
                    }
                }
            }
        }
    }

    /// Sets the notice a tool's error pages show (nil: none).
    public func setNotice(_ notice: String?, for tool: String) {
        state.withLock { state in
            guard state.notices[tool] != notice else { return }
            state.notices[tool] = notice
            state.position.version += 1
            Self.publish(.notice(version: state.position.version, tool: tool, notice: notice), in: &state)
        }
    }

    /// The feed from `since` on: the changes after it when the hub still has them all, else a
    /// snapshot; then every change as it happens, until the stream is dropped.
    public func follow(since: RouteFeedPosition?) -> AsyncStream<RouteFeedMessage> {
        let (stream, continuation) = AsyncStream<RouteFeedMessage>.makeStream()
        let id = UUID()
        state.withLock { state in
            if let since, let missed = Self.changes(after: since, in: state) {
                for message in missed { continuation.yield(message) }
            } else {
                continuation.yield(
                    .snapshot(position: state.position, routes: state.routes.keys.sorted().flatMap { state.routes[$0] ?? [] },
                        owners: state.owners, notices: state.notices))
            }
            state.followers[id] = continuation
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.followers.removeValue(forKey: id) }
        }
        return stream
    }

    static func changes(after since: RouteFeedPosition, in state: State) -> [RouteFeedMessage]? {
        guard since.epoch == state.position.epoch, since.version <= state.position.version else { return nil }
        if since.version == state.position.version { return [] }
        // The hub has every change after `since` when it has the one right after it.
        guard let first = state.recent.first?.version, first <= since.version + 1 else { return nil }
        return state.recent.filter { ($0.version ?? 0) > since.version }
    }

    private static func replace(_ tool: String, with routes: [Route], owner: UInt32?, in state: inout State) {
        state.routes[tool] = routes.isEmpty ? nil : routes
        state.owners[tool] = routes.isEmpty ? nil : owner
        state.position.version += 1
        publish(.replaced(version: state.position.version, tool: tool, routes: routes, owner: owner), in: &state)
    }

    private static func publish(_ message: RouteFeedMessage, in state: inout State) {
        state.recent.append(message)
        if state.recent.count > rememberedChanges { state.recent.removeFirst(state.recent.count - rememberedChanges) }
        for follower in state.followers.values { follower.yield(message) }
    }

    static func uid(_ owner: BackendOwner) -> UInt32? {
        switch owner {
        case .anyone: nil
        case .uid(let uid): uid
        }
    }
}
