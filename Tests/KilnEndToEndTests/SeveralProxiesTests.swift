import AsyncHTTPClient
import Foundation
import KilnTesting
import NIOCore
import Testing

/// Two `kiln proxy` processes following one control plane, each from the control plane's route
/// feed or from Redis: one killed (SIGKILL) and started again while clients load the other, which
/// fails none of their requests; the restarted one routes as before, with what changed while it
/// was down; a change reaches both within a bound (bench/two-proxies.sh has the figures).
@Suite(.serialized) struct SeveralProxiesTests {
    /// Where each proxy's routes come from.
    enum Feed: String, Sendable {
        case controlPlane = "feed"
        case redis
    }

    /// The proxy killed and the one under load.
    struct Arrangement: Sendable, CustomTestStringConvertible {
        var killed: Feed
        var loaded: Feed
        /// Whether the control plane keeps its routes in Redis.
        var usesRedis: Bool { killed == .redis || loaded == .redis }
        var testDescription: String { "killed: \(killed.rawValue), loaded: \(loaded.rawValue)" }
    }

    static let arrangements = [
        Arrangement(killed: .controlPlane, loaded: .controlPlane),
        Arrangement(killed: .controlPlane, loaded: .redis),
        Arrangement(killed: .redis, loaded: .controlPlane),
    ]

    @Test(arguments: arrangements)
    func killingOneProxyUnderLoadFailsNoRequestOnTheOther(_ arrangement: Arrangement) async throws {
        let platform = try await onOwnThread { try SharedRoutesPlatform(redis: arrangement.usesRedis) }
        defer { platform.stop() }
        let killed = try ProxyAloneProcess(name: "A", source: platform.source(arrangement.killed))
        let loaded = try ProxyAloneProcess(name: "B", source: platform.source(arrangement.loaded))
        defer {
            killed.kill9()
            loaded.kill9()
        }
        let page = "/\(platform.tool)/page"
        try await onOwnThread {
            for proxy in [killed, loaded] {
                try proxy.start()
                guard Self.waitUntil(15, { proxy.status(page) == 200 }) else {
                    throw TestFailure("proxy \(proxy.name) (\(proxy.source)) did not route:\n\(proxy.log)")
                }
            }
        }

        // A change while both run reaches both.
        let delays = try await platform.timeToRoute("^/fresh", on: [killed, loaded])
        print("route change to routable, \(arrangement.testDescription): A \(delays[0]), B \(delays[1]) after the API request")
        #expect(delays.allSatisfy { $0 < .seconds(1) }, "\(delays)")

        let load = HTTPLoad(url: loaded.url + page, concurrency: 16)
        try await Task.sleep(for: .milliseconds(500))
        let restart = try await onOwnThread { () throws -> (firstAnswer: Int?, serving: Duration?) in
            killed.kill9()
            // Added while A is down: A must have it once it is back.
            let added = try kiln(
                "routes", "add", "--data", platform.server.dataDirectory, "--tool", platform.tool, "^/late", platform.backend.address)
            guard added.status == 0 else { throw TestFailure("\(added)") }
            usleep(300_000)
            let started = ContinuousClock.now
            try killed.start()
            // The first answer A gives after its restart: a balancer in front passes it on.
            var first: Int?
            let deadline = Date().addingTimeInterval(15)
            while first == nil && Date() < deadline {
                first = killed.status(page)
                if first == nil { usleep(2_000) }
            }
            return (first, first == nil ? nil : ContinuousClock.now - started)
        }
        #expect(restart.firstAnswer == 200, "A's first answer after its restart:\n\(killed.log)")
        print("A (\(killed.source)) serving again \(restart.serving.map { "\($0)" } ?? "never") after its restart")
        try await onOwnThread {
            #expect(Self.waitUntil(10) { killed.status("/\(platform.tool)/late") == 200 }, "a route added while A was down")
        }
        #expect(killed.status("/\(platform.tool)/fresh") == 200, "a route A had before its restart")
        #expect(killed.status("/\(platform.tool)/other") == 503, "A routes only what the control plane has")
        try await Task.sleep(for: .milliseconds(500))
        let report = await load.finish()
        print("B (\(loaded.source)) while A was killed and restarted: \(report)")
        #expect(report.requests > 100 && report.failed == 0, "\(report)")
        #expect(loaded.status("/\(platform.tool)/late") == 200)
    }

    /// A proxy started again while its control plane (or Redis) is away serves the routes it had,
    /// kept in its data directory, and follows its source again once that is back.
    @Test(arguments: [Feed.controlPlane, Feed.redis])
    func aProxyRestartedWhileItsSourceIsAwayServesTheRoutesItHad(_ feed: Feed) async throws {
        let platform = try await onOwnThread { try SharedRoutesPlatform(redis: feed == .redis) }
        defer { platform.stop() }
        let proxy = try ProxyAloneProcess(name: "A", source: platform.source(feed))
        defer { proxy.kill9() }
        let page = "/\(platform.tool)/page"
        let restarted = try await onOwnThread { () throws -> Duration? in
            try proxy.start()
            guard Self.waitUntil(15, { proxy.status(page) == 200 }) else { throw TestFailure("the proxy did not route:\n\(proxy.log)") }
            guard Self.waitUntil(10, { FileManager.default.fileExists(atPath: proxy.directory + "/data/routes.json") }) else {
                throw TestFailure("the proxy kept no routes:\n\(proxy.log)")
            }
            switch feed {
            case .controlPlane: platform.server.kill9()
            case .redis: platform.redis?.kill()
            }
            proxy.kill9()
            let started = ContinuousClock.now
            try proxy.start()
            return Self.waitUntil(10, { proxy.status(page) == 200 }) ? ContinuousClock.now - started : nil
        }
        print("A (\(proxy.source)) started again while its source is away: serving the kept routes after \(restarted.map { "\($0)" } ?? "never")")
        #expect(restarted.map { $0 < .seconds(5) } == true, "\(proxy.log)")
        #expect(proxy.status("/\(platform.tool)/other") == 503)

        // The source back, a change reaches the proxy.
        try await onOwnThread {
            switch feed {
            case .controlPlane:
                try platform.server.start()
                let added = try kiln(
                    "routes", "add", "--data", platform.server.dataDirectory, "--tool", platform.tool, "^/late", platform.backend.address)
                #expect(added.status == 0, "\(added)")
            case .redis:
                // Redis restarts empty here (nothing persisted): the proxy follows what it holds.
                let redis = try #require(platform.redis)
                try redis.start()
                try redis.cli("HSET", "prefix:\(platform.tool)", "^/late", platform.backend.address)
            }
            #expect(Self.waitUntil(15) { proxy.status("/\(platform.tool)/late") == 200 }, "\(proxy.log)")
        }
    }

    /// Polls until `condition` holds, at most `seconds`.
    static func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return false
    }
}

/// A control plane (`kiln serve`, its routes in its store or in Redis) with a tool whose `^/page`
/// routes to its backend, and the admin token in a file, as a proxy on another machine reads it.
final class SharedRoutesPlatform: @unchecked Sendable {
    let redis: RedisServer?
    let server: KilnServerProcess
    let tool = uniqueToolName("sp")
    let backend: BackendProcess
    let tokenFile: String

    init(redis useRedis: Bool) throws {
        let redis = useRedis ? try RedisServer() : nil
        self.redis = redis
        server = try KilnServerProcess(extraArguments: ["--allow-http"] + (redis.map { ["--routes", $0.url] } ?? []))
        let created = try kiln("tools", "create", tool, "--data", server.dataDirectory)
        guard created.status == 0 else { throw TestFailure("\(created)") }
        backend = try BackendProcess(name: "shared", tool: tool)
        let routed = try kiln("routes", "add", "--data", server.dataDirectory, "--tool", tool, "^/page", backend.address)
        guard routed.status == 0 else { throw TestFailure("\(routed)") }
        tokenFile = try makeTemporaryDirectory(prefix: "kst") + "/token"
        guard FileManager.default.createFile(atPath: tokenFile, contents: Data(server.adminToken.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw TestFailure("cannot write \(tokenFile)")
        }
    }

    func source(_ feed: SeveralProxiesTests.Feed) throws -> ProxyAloneProcess.Source {
        switch feed {
        case .controlPlane:
            return .controlPlane(api: server.apiURL, tokenFile: tokenFile)
        case .redis:
            guard let redis else { throw TestFailure("this platform keeps its routes in its store, not in Redis") }
            return .redis(url: redis.url)
        }
    }

    /// Registers `pattern` for the tool through the API and returns, for each proxy, how long
    /// from the request until the proxy routes it.
    func timeToRoute(_ pattern: String, on proxies: [ProxyAloneProcess]) async throws -> [Duration] {
        let path = "/\(tool)/" + pattern.drop { !$0.isLetter }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var request = HTTPClientRequest(url: server.apiURL + "/v1/tools/\(tool)/routes")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(server.adminToken)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"pattern": "\#(pattern)", "backend": "\#(backend.address)"}"#))
        let start = ContinuousClock.now
        // One thread polls every proxy in turn, so each is looked at every millisecond or so.
        async let delays = onOwnThread {
            var delays = [Duration?](repeating: nil, count: proxies.count)
            let deadline = Date().addingTimeInterval(10)
            while delays.contains(nil) && Date() < deadline {
                for (index, proxy) in proxies.enumerated() where delays[index] == nil && proxy.status(path) == 200 {
                    delays[index] = ContinuousClock.now - start
                }
                usleep(500)
            }
            return try delays.enumerated().map { index, delay in
                guard let delay else { throw TestFailure("\(path) never routed on proxy \(proxies[index].name)") }
                return delay
            }
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .created else { throw TestFailure("adding \(pattern): \(response.status) \(String(buffer: body))") }
        } catch {
            try? await client.shutdown()
            _ = try? await delays
            throw error
        }
        try await client.shutdown()
        return try await delays
    }

    func stop() {
        backend.stop()
        server.terminate()
        redis?.stop()
    }
}
