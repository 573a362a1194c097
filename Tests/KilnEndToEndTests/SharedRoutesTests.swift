import Foundation
import KilnTesting
import Testing

/// Several proxies sharing one real Redis, as larger installations run them.
@Suite(.serialized) struct SharedRoutesTests {
    final class ProxyProcess: @unchecked Sendable {
        let httpPort = freeLoopbackPort()
        let process = Process()
        let directory: String

        init(redis: RedisServer) throws {
            directory = try makeTemporaryDirectory(prefix: "kx")
            process.executableURL = URL(fileURLWithPath: KilnBinary.path)
            process.arguments = [
                "proxy", "--routes", redis.url, "--http", "127.0.0.1:\(httpPort)", "--https", "off", "--allow-http",
                "--data", directory, "--routes-resync", "2",
            ]
            let log = FileHandle(forWritingAtPath: "/dev/null")
            process.standardOutput = log
            process.standardError = log
            try process.run()
        }

        func status(_ path: String) -> Int? {
            guard let reply = try? rawExchange(
                port: httpPort, Array("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8), timeout: 2)
            else { return nil }
            return Int(reply.response.dropFirst("HTTP/1.1 ".count).prefix(3))
        }

        func stop() {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
    }

    /// Polls until `condition` holds; returns the time it took, or nil after `timeout`.
    func timeUntil(_ timeout: TimeInterval = 10, _ condition: () -> Bool) -> Duration? {
        let start = ContinuousClock.now
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return ContinuousClock.now - start }
        }
        return nil
    }

    @Test func aBareHSETIsRoutableOnEveryProxyAndRoutesOutliveRedis() throws {
        let redis = try RedisServer()
        let backend = try BackendProcess(name: "shared")
        defer { backend.stop() }
        let proxies = [try ProxyProcess(redis: redis), try ProxyProcess(redis: redis)]
        defer { proxies.forEach { $0.stop() } }
        for proxy in proxies { #expect(timeUntil { proxy.status("/none/") == 503 } != nil, "a proxy did not start") }

        // Older tooling writes the hash directly: every proxy must see it, by push.
        try redis.cli("HSET", "prefix:legacy", ".*", backend.address)
        var latencies: [Duration] = []
        for proxy in proxies {
            let latency = try #require(timeUntil { proxy.status("/legacy/") == 200 })
            latencies.append(latency)
        }
        print("HSET to routable on both proxies: \(latencies) (after redis-cli returned)")
        #expect(latencies.allSatisfy { $0 < .milliseconds(500) })

        try redis.cli("HDEL", "prefix:legacy", ".*")
        for proxy in proxies { #expect(timeUntil { proxy.status("/legacy/") == 503 } != nil) }
        try redis.cli("HSET", "prefix:legacy", ".*", backend.address)
        for proxy in proxies { #expect(timeUntil { proxy.status("/legacy/") == 200 } != nil) }

        // Redis gone: the proxies keep serving what they knew, through and past a resync period.
        redis.kill()
        Thread.sleep(forTimeInterval: 3)
        for proxy in proxies { #expect(proxy.status("/legacy/") == 200) }
        // Back again, with a change made while they were cut off: the resync brings it.
        try redis.start()
        try redis.cli("HSET", "prefix:later", ".*", backend.address)
        for proxy in proxies { #expect(timeUntil(15) { proxy.status("/later/") == 200 } != nil) }
    }

    @Test func registrationsThroughTheAPILandInRedis() throws {
        let redis = try RedisServer()
        let server = try KilnServerProcess(extraArguments: ["--allow-http", "--routes", redis.url])
        defer { server.terminate() }
        let backend = try BackendProcess(name: "api")
        defer { backend.stop() }
        let tool = uniqueToolName("r")
        #expect(try kiln("tools", "create", tool, "--data", server.dataDirectory).status == 0)
        let added = try kiln("routes", "add", "--data", server.dataDirectory, "--tool", tool, ".*", backend.address)
        #expect(added.status == 0, "\(added)")
        #expect(try redis.cli("HGET", "prefix:\(tool)", ".*") == backend.address + "\n")
        #expect(timeUntil { (try? curl([server.httpURL + "/\(tool)/"]))?.status == 200 } != nil)
        let listed = try kiln("routes", "list", "--data", server.dataDirectory)
        #expect(listed.standardOutput.contains(tool))
        #expect(try kiln("tools", "delete", tool, "--data", server.dataDirectory).status == 0)
        #expect(try redis.cli("EXISTS", "prefix:\(tool)") == "0\n", "a deleted tool's routes stay in Redis")
    }
}
