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
        let rest = try BackendProcess(name: "slow-rest")
        defer { rest.stop() }
        let other = try BackendProcess(name: "other")
        defer { other.stop() }
        let slow = uniqueToolName("rtslow")
        let fast = uniqueToolName("rtfast")
        for tool in [slow, fast] {
            let created = try kiln("tools", "create", tool, "--data", data)
            #expect(created.status == 0, "\(created)")
        }
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
