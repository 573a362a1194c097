import Foundation
import KilnTesting
import Testing

/// Route patterns a tool sends are hostile input: through the real binary (as root, with Unix
/// users), a pattern that backtracks without bound costs its own requests a bounded match and
/// nobody else anything, and patterns past the limits are refused at registration.
@Suite(.serialized) struct RoutePatternLimitTests {
    /// `^/(a+)+$` against `/aaa…ab` took exponential time under a lock every event loop shared:
    /// one request stalled the proxy. Now the match is abandoned at PCRE2's limit (no match, so
    /// the tool's next pattern takes the request) and another tool's requests, sent at the same
    /// time, are answered too.
    @Test func aPathologicalPatternStallsNeitherItsToolNorOthers() throws {
        let server = try KilnServerProcess(extraArguments: ["--allow-http"])
        defer { server.terminate() }
        let data = server.dataDirectory
        let slow = uniqueToolName("rtslow")
        let fast = uniqueToolName("rtfast")
        for tool in [slow, fast] {
            let created = try kiln("tools", "create", tool, "--data", data)
            #expect(created.status == 0, "\(created)")
        }
        let rest = try BackendProcess(name: "slow-rest", tool: slow)
        defer { rest.stop() }
        let other = try BackendProcess(name: "other", tool: fast)
        defer { other.stop() }
        defer {
            for tool in [slow, fast] { _ = try? kiln("tools", "delete", tool, "--data", data) }
        }
        for (tool, pattern, backend) in [(slow, "^/(a+)+$", rest), (slow, ".*", rest), (fast, ".*", other)] {
            let routed = try kiln("routes", "add", "--data", data, "--tool", tool, pattern, backend.address)
            #expect(routed.status == 0, "\(routed)")
        }

        let pathological = server.httpURL + "/\(slow)/" + String(repeating: "a", count: 32) + "b"
        let others = server.httpURL + "/\(fast)/page"
        // One curl sending every request at once, each on its own connection.
        var arguments = ["-s", "-Z", "--parallel-max", "40", "--max-time", "20", "-w", "%{http_code} %{url}\n"]
        for index in 0..<20 {
            arguments += ["-o", "/dev/null", pathological + "?n=\(index)", "-o", "/dev/null", others + "?n=\(index)"]
        }
        let sent = try runCommand("/usr/bin/curl", arguments, timeout: .seconds(60))
        let answers = sent.standardOutput.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1) }
        #expect(answers.count == 40, "\(sent)")
        for answer in answers {
            #expect(answer.first == "200", "\(answer)")
        }

        let slowAnswer = try curl([pathological])
        #expect(slowAnswer.status == 200)
        #expect(slowAnswer.body.contains(#""backend": "slow-rest""#), "the next pattern took it: \(slowAnswer.body)")
        // The pattern itself still routes what it matches.
        let matching = try curl([server.httpURL + "/\(slow)/aaaa"])
        #expect(matching.status == 200)
        #expect(try curl([others]).body.contains(#""backend": "other""#))
        #expect(server.isRunning)
    }

    /// Routes other software wrote into Redis past the limits: a proxy routes a tool's first 100
    /// patterns and leaves out the rest and a pattern over 512 bytes, without compiling them, and
    /// says so once, not again at every resync.
    @Test func routesInRedisPastTheLimitsAreLeftOutAndLoggedOnce() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let backend = try BackendProcess(name: "redis-routed")
        defer { backend.stop() }
        let many = uniqueToolName("rtmany")
        let long = uniqueToolName("rtlong")
        // Fewer than 128 fields: Redis keeps the hash in insertion order, so "first" is defined.
        for index in 0...100 {
            try redis.cli("HSET", "prefix:\(many)", "^/p\(index)/", backend.address)
        }
        try redis.cli("HSET", "prefix:\(long)", "^/" + String(repeating: "x", count: 600), backend.address)
        try redis.cli("HSET", "prefix:\(long)", "^/short/", backend.address)

        let directory = try makeTemporaryDirectory(prefix: "kr")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let httpPort = freeLoopbackPort()
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: KilnBinary.path)
        proxy.arguments = [
            "proxy", "--routes", redis.url, "--http", "127.0.0.1:\(httpPort)", "--https", "off", "--allow-http",
            "--data", directory, "--routes-resync", "1",
        ]
        let logPath = directory + "/proxy.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        proxy.standardOutput = log
        proxy.standardError = log
        try proxy.run()
        defer {
            proxy.terminate()
            proxy.waitUntilExit()
        }
        func status(_ path: String) -> Int {
            (try? curl(["http://127.0.0.1:\(httpPort)" + path], timeout: .seconds(5)))?.status ?? 0
        }
        var routed = false
        for _ in 0..<100 where !routed {
            routed = status("/\(many)/p0/") == 200
            if !routed { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(routed)
        #expect(status("/\(many)/p99/") == 200)
        #expect(status("/\(many)/p100/") == 503, "the 101st pattern is not routed")
        #expect(status("/\(long)/short/") == 200)
        // Several resyncs later, each is still reported once.
        try await Task.sleep(for: .seconds(3))
        let logged = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        let leftOut = logged.split(separator: "\n").filter { $0.contains("route left out") }
        #expect(leftOut.filter { $0.contains(many) && $0.contains("100 route patterns") }.count == 1, "\(logged)")
        #expect(leftOut.filter { $0.contains(long) && $0.contains("512 bytes") }.count == 1, "\(logged)")
    }

    @Test func patternsPastTheLimitsAreRefusedAtRegistration() throws {
        let server = try KilnServerProcess(extraArguments: ["--allow-http"])
        defer { server.terminate() }
        let data = server.dataDirectory
        let tool = uniqueToolName("rtlimit")
        #expect(try kiln("tools", "create", tool, "--data", data).status == 0)
        defer { _ = try? kiln("tools", "delete", tool, "--data", data) }

        let tooLong = try kiln("routes", "add", "--data", data, "--tool", tool, "^/" + String(repeating: "x", count: 511), "127.0.0.1:9")
        #expect(tooLong.status == 1, "\(tooLong)")
        #expect(tooLong.standardError.contains("'pattern'") && tooLong.standardError.contains("512 bytes"), "\(tooLong)")
        let invalid = try kiln("routes", "add", "--data", data, "--tool", tool, "^/(a", "127.0.0.1:9")
        #expect(invalid.status == 1, "\(invalid)")
        #expect(invalid.standardError.contains("not a valid regular expression"), "\(invalid)")

        for index in 0..<100 {
            let added = try kiln("routes", "add", "--data", data, "--tool", tool, "^/p\(index)/", "127.0.0.1:9")
            #expect(added.status == 0, "\(added)")
        }
        let extra = try kiln("routes", "add", "--data", data, "--tool", tool, "^/extra/", "127.0.0.1:9")
        #expect(extra.status == 1, "\(extra)")
        #expect(extra.standardError.contains("100 route patterns"), "\(extra)")
        let listed = try kiln("routes", "list", "--data", data, "--tool", tool)
        #expect(listed.standardOutput.split(separator: "\n").count == 101, "a header and 100 routes")
    }
}
