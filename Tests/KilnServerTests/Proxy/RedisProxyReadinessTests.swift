import Foundation
import KilnCore
import KilnProxy
import KilnRedis
import KilnTesting
import Logging
import Testing

@testable import KilnServer

/// A proxy fed from Redis listens only once it has read the routes: one started beside others (a
/// restart after a crash) would otherwise answer 503 "no webservice" for tools it has not read
/// yet, and a balancer in front passes those on.
@Suite(.serialized) struct RedisProxyReadinessTests {
    @Test func aProxyFedFromRedisAnswersOnlyOnceItHasTheRoutes() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        // Thousands of tools, so that reading them takes long enough to be seen; the tool asked
        // for routes to a port nobody listens on: a 502 shows the proxy knew the route.
        try redis.cli(
            "EVAL", "for i = 1, 5000 do redis.call('HSET', 'prefix:filler' .. i, '.*', ARGV[1]) end", "0", "127.0.0.1:\(freeLoopbackPort())")
        try redis.cli("HSET", "prefix:ready", ".*", "127.0.0.1:\(freeLoopbackPort())")
        let directory = try makeTemporaryDirectory(prefix: "krr")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = freeLoopbackPort()
        var logger = Logger(label: "redis-readiness-test")
        logger.logLevel = .critical
        let node = ProxyNode(
            configuration: ProxyConfiguration(
                http: HostPort(host: "127.0.0.1", port: port), https: nil, domain: "localhost", allowHTTP: true, accessLogPath: nil, tls: nil),
            feed: .redis(
                RedisRouteSource(
                    url: try RedisURL(parsing: redis.url), prefix: "prefix", resyncInterval: nil, configuresKeyspaceEvents: false,
                    passwordInArguments: false)),
            dataDirectory: directory, logger: logger)
        let proxy = Task { try await node.run() }
        defer { proxy.cancel() }
        let first = try await onOwnThread { () -> String? in
            let request = Array("GET /ready/ HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\nConnection: close\r\n\r\n".utf8)
            let deadline = Date().addingTimeInterval(15)
            while Date() < deadline {
                if let reply = try? rawExchange(port: port, request, timeout: 5) { return String(reply.response.prefix(12)) }
                usleep(1_000)
            }
            return nil
        }
        #expect(first == "HTTP/1.1 502", "the proxy's first answer")
        proxy.cancel()
        _ = try? await proxy.value
    }
}
