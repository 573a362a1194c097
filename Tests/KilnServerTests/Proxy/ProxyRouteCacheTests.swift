import Foundation
import KilnCore
import KilnProxy
import KilnTesting
import Logging
import Testing

@testable import KilnServer

/// A proxy alone keeps its routes for its next start: one started while its control plane is
/// away serves what it had rather than a 503 for every tool.
@Suite struct ProxyRouteCacheTests {
    let directory: String
    let logger: Logger
    let backend = HostPort(host: "127.0.0.1", port: 8000)

    init() throws {
        directory = try makeTemporaryDirectory(prefix: "kprc")
        var logger = Logger(label: "route-cache-test")
        logger.logLevel = .critical
        self.logger = logger
    }

    var kept: ProxyRouteCache.Contents {
        ProxyRouteCache.Contents(
            routes: [Route(tool: "kept", pattern: "^/a", backend: backend), Route(tool: "kept", pattern: ".*", backend: backend)],
            owners: ["kept": 1234], notices: ["kept": "failed: exit 1"])
    }

    @Test func whatIsSavedIsLoadedBack() throws {
        let cache = ProxyRouteCache(directory: directory)
        #expect(try cache.load() == nil)
        try cache.save(kept)
        #expect(try cache.load() == kept)
        #expect(FileManager.default.createFile(atPath: cache.path, contents: Data("not json".utf8), attributes: [.posixPermissions: 0o600]))
        #expect(throws: KilnError.self) { try cache.load() }
    }

    /// Encoded a piece at a time (as large tables are), read back as one.
    @Test func manyRoutesAndOwnersAreKeptWhole() throws {
        let cache = ProxyRouteCache(directory: directory)
        let count = ProxyRouteCache.piece * 2 + 7
        let many = ProxyRouteCache.Contents(
            routes: (0..<count).map { Route(tool: "t\($0)", pattern: #"^/"quoted"\\/\#($0)"#, backend: backend) },
            owners: Dictionary(uniqueKeysWithValues: (0..<count).map { ("t\($0)", UInt32($0)) }), notices: [:])
        try cache.save(many)
        #expect(try cache.load() == many)
        let none = ProxyRouteCache.Contents(routes: [], owners: [:], notices: [:])
        try cache.save(none)
        #expect(try cache.load() == none)
    }

    @Test func aFeedRestoredFromWhatWasKeptRoutesAndGuardsAsBefore() {
        let table = RouteTableReference()
        let notices = ToolNotices()
        let away = ControlPlaneFeedSource(endpoint: .http(HostPort(host: "127.0.0.1", port: freeLoopbackPort())))
        let feed = ControlPlaneRouteFeed(source: away, routes: table, notices: notices, logger: logger)
        feed.restore(kept)
        #expect(table.snapshot.routes(of: "kept") == kept.routes)
        #expect(feed.owners.owner(of: "kept") == .uid(1234), "the kept owner still guards the tool's backends")
        #expect(notices.notice(for: "kept") == "failed: exit 1")
    }

    /// `kiln proxy` started while its control plane is away: it serves the routes it kept (here a
    /// 502, as nothing listens at the kept backend: the route is known) after a short wait.
    @Test func aProxyWhoseControlPlaneIsAwayServesTheRoutesItKept() async throws {
        let cache = ProxyRouteCache(directory: directory)
        let unused = HostPort(host: "127.0.0.1", port: freeLoopbackPort())
        try cache.save(.init(routes: [Route(tool: "kept", pattern: ".*", backend: unused)], owners: [:], notices: [:]))
        let port = freeLoopbackPort()
        let node = ProxyNode(
            configuration: ProxyConfiguration(
                http: HostPort(host: "127.0.0.1", port: port), https: nil, domain: "localhost", allowHTTP: true, accessLogPath: nil, tls: nil),
            feed: .controlPlane(ControlPlaneFeedSource(endpoint: .http(HostPort(host: "127.0.0.1", port: freeLoopbackPort())))),
            dataDirectory: directory, routeCache: cache, logger: logger)
        let started = ContinuousClock.now
        let proxy = Task { try await node.run() }
        defer { proxy.cancel() }
        let first = try await onOwnThread { () -> String? in
            let request = Array("GET /kept/ HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\nConnection: close\r\n\r\n".utf8)
            let deadline = Date().addingTimeInterval(8)
            while Date() < deadline {
                if let reply = try? rawExchange(port: port, request, timeout: 5) { return String(reply.response.prefix(12)) }
                usleep(10_000)
            }
            return nil
        }
        #expect(first == "HTTP/1.1 502", "the proxy's first answer")
        #expect(ContinuousClock.now - started < .seconds(5), "served after the short wait, not the 10 s one without routes")
        proxy.cancel()
        _ = try? await proxy.value
    }

    @Test func theWriterKeepsWhatTheTableAndTheFeedHold() async throws {
        let cache = ProxyRouteCache(directory: directory)
        let table = RouteTableReference()
        let owners = BackendOwners(resolver: nil)
        let notices = ToolNotices()
        let writer = ProxyRouteCacheWriter(cache: cache, routes: table, owners: owners, notices: notices, logger: logger, interval: .milliseconds(50))
        let writing = Task { try await writer.run() }
        defer { writing.cancel() }
        try await Task.sleep(for: .milliseconds(200))
        #expect(try cache.load() == nil, "nothing changed: nothing written")
        owners.set(["kept": .uid(1234)], replacingAll: true)
        table.apply(.snapshot(kept.routes))
        notices.set("failed: exit 1", for: "kept")
        let deadline = ContinuousClock.now + .seconds(5)
        while try cache.load() != kept && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try cache.load() == kept)
        // A change just before a stop is written at the stop.
        table.apply(.replaced(tool: "kept", routes: []))
        writing.cancel()
        _ = try? await writing.value
        #expect(try cache.load()?.routes == [])
    }
}
