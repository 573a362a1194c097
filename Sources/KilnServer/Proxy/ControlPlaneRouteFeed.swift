import AsyncHTTPClient
import Foundation
import KilnCore
import KilnProxy
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A proxy's side of the control plane's route feed: applies the snapshot and the changes to the
/// proxy's route table, owners and notices. When the control plane is away (crashed, restarting,
/// upgrading) the proxy keeps serving the table it has and reconnects, saying where it left off,
/// so it gets only what it missed.
final class ControlPlaneRouteFeed: Service, Sendable {
    let source: ControlPlaneFeedSource
    let routes: RouteTableReference
    let notices: ToolNotices
    let owners = BackendOwners(resolver: nil)
    let logger: Logger
    /// Called once the first snapshot (or catch-up) is applied: the proxy routes as the control
    /// plane does.
    let onSynchronized: @Sendable () -> Void

    private struct Progress {
        var position: RouteFeedPosition?
        var noticed: Set<String> = []
        var synchronized = false
    }

    private let progress = Mutex(Progress())

    /// The longest line the feed may send (a snapshot of every route).
    static let largestLine = 256 << 20
    static let firstRetry: Duration = .milliseconds(50)
    static let longestRetry: Duration = .seconds(2)

    init(
        source: ControlPlaneFeedSource, routes: RouteTableReference, notices: ToolNotices, logger: Logger,
        onSynchronized: @escaping @Sendable () -> Void = {}
    ) {
        self.source = source
        self.routes = routes
        self.notices = notices
        self.logger = logger
        self.onSynchronized = onSynchronized
    }

    var position: RouteFeedPosition? { progress.withLock { $0.position } }

    /// Takes the routes, owners and notices kept from before a restart (`ProxyRouteCache`), served
    /// while the control plane is away. The feed still starts from a snapshot, which is applied
    /// as a difference.
    func restore(_ kept: ProxyRouteCache.Contents) {
        applySnapshot(routes: kept.routes, owners: kept.owners, notices: kept.notices)
    }

    func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var retry = Self.firstRetry
        var wasConnected = true
        let connected = Atomic<Bool>(false)
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            connected.store(false, ordering: .relaxed)
            do {
                try await cancelWhenGracefulShutdown {
                    try await self.follow(client) { connected.store(true, ordering: .relaxed) }
                }
            } catch is CancellationError {
                break
            } catch {
                if wasConnected {
                    logger.warning(
                        "route feed: the control plane is away; serving the routes the proxy has and retrying", metadata: ["error": "\(error)"])
                }
                wasConnected = false
            }
            if connected.load(ordering: .relaxed) {
                if !wasConnected { logger.notice("route feed: connected again", metadata: ["at": "\(position.map { "\($0)" } ?? "-")"]) }
                retry = Self.firstRetry
            }
            let delay = retry
            guard (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: delay) })) != nil else { break }
            retry = min(retry * 2, Self.longestRetry)
        }
        try? await client.shutdown()
    }

    /// One connection: reads lines until the feed ends, fails or falls silent.
    private func follow(_ client: HTTPClient, connected: @Sendable () -> Void) async throws {
        var request = HTTPClientRequest(url: source.url(since: position))
        if let token = source.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await client.execute(request, deadline: .now() + .seconds(10))
        guard response.status == .ok else {
            let body = try? await response.body.collect(upTo: 64 * 1024)
            throw KilnError(
                .unavailable, "the route feed answered \(response.status.code): \(body.map { String(buffer: $0) } ?? "")")
        }
        connected()
        let lastHeard = LastHeard()
        let silenceLimit = source.silenceLimit
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var pending = ByteBuffer()
                for try await chunk in response.body {
                    lastHeard.now()
                    var chunk = chunk
                    pending.writeBuffer(&chunk)
                    while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                        let length = newline - pending.readerIndex
                        guard let line = pending.readSlice(length: length) else { break }
                        pending.moveReaderIndex(forwardBy: 1)
                        try await self.receive(line)
                    }
                    guard pending.readableBytes <= Self.largestLine else {
                        throw KilnError(.unavailable, "the route feed sent a line longer than \(Self.largestLine) bytes")
                    }
                    pending.discardReadBytes()
                }
                throw KilnError(.unavailable, "the route feed ended")
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: .seconds(1))
                    let silent = lastHeard.silence
                    guard silent < silenceLimit else {
                        throw KilnError(.unavailable, "the route feed has been silent for \(silent)")
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// When the feed last sent anything.
    final class LastHeard: Sendable {
        private let nanoseconds = Atomic<Int64>(ControlPlaneRouteFeed.now())
        func now() { nanoseconds.store(ControlPlaneRouteFeed.now(), ordering: .relaxed) }
        var silence: Duration { .nanoseconds(ControlPlaneRouteFeed.now() - nanoseconds.load(ordering: .relaxed)) }
    }

    /// Nanoseconds on the monotonic clock, which an atomic can hold.
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// Applies one line of the feed.
    func receive(_ line: ByteBuffer) async throws {
        let message = try JSONDecoder().decode(RouteFeedMessage.self, from: Data(line.readableBytesView))
        switch message {
        case .snapshot(let position, let all, let stated, let notes):
            applySnapshot(routes: all, owners: stated, notices: notes)
            progress.withLock { $0.position = position }
            RouteFeedService.returnFreedMemory()
        case .replaced(let version, let tool, let replacement, let owner):
            if replacement.isEmpty {
                owners.forget(tool)
            } else {
                owners.set([tool: owner.map { .uid($0) } ?? .anyone], replacingAll: false)
            }
            report(refused: routes.apply(.replaced(tool: tool, routes: replacement)))
            advance(to: version)
        case .notice(let version, let tool, let notice):
            notices.set(notice, for: tool)
            progress.withLock { progress in
                if notice == nil { progress.noticed.remove(tool) } else { progress.noticed.insert(tool) }
            }
            advance(to: version)
        case .heartbeat:
            break
        }
        let first = progress.withLock { progress in
            defer { progress.synchronized = true }
            return !progress.synchronized
        }
        if first { onSynchronized() }
    }

    /// Everything at once: tools not named have no routes, no owner, no notice.
    private func applySnapshot(routes all: [Route], owners stated: [String: UInt32], notices notes: [String: String]) {
        var byTool: [String: BackendOwner] = [:]
        for route in all { byTool[route.tool] = stated[route.tool].map { .uid($0) } ?? .anyone }
        owners.set(byTool, replacingAll: true)
        report(refused: routes.apply(.snapshot(all)))
        let previous = progress.withLock { $0.noticed }
        for tool in previous where notes[tool] == nil { notices.set(nil, for: tool) }
        for (tool, notice) in notes { notices.set(notice, for: tool) }
        progress.withLock { $0.noticed = Set(notes.keys) }
    }

    private func advance(to version: UInt64) {
        progress.withLock { $0.position?.version = version }
    }

    private func report(refused: [KilnError]) {
        for error in refused.prefix(10) {
            logger.warning("route left out: \(error.message)", metadata: ["source": "control plane", "tool": "\(error.context["tool"] ?? "")"])
        }
    }
}
