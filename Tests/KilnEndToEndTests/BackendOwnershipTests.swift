import Foundation
import KilnTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A tool's traffic goes only to a listener of the tool: `kiln serve` as root with Unix users,
/// tools' servers started through setpriv as their users.
@Suite(.serialized) struct BackendOwnershipTests {
    static func uid(of tool: String) throws -> UInt32 {
        guard let entry = getpwnam("tools.\(tool)") else { throw TestFailure("tool \(tool) has no Unix user") }
        return entry.pointee.pw_uid
    }

    /// Asks until `condition` holds, sleeping between tries; nil when `timeout` passed first.
    static func eventually(_ timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test func aSquattedPortGetsA502NotTheSquattersContent() async throws {
        let server = try KilnServerProcess(extraArguments: ["--allow-http"])
        defer { server.terminate() }
        let (victim, squatter) = (uniqueToolName("owv"), uniqueToolName("ows"))
        defer {
            _ = try? kiln("tools", "delete", victim, "--data", server.dataDirectory)
            _ = try? kiln("tools", "delete", squatter, "--data", server.dataDirectory)
        }
        for tool in [victim, squatter] {
            let created = try kiln("tools", "create", tool, "--data", server.dataDirectory)
            #expect(created.status == 0, "\(created)")
        }
        let token = try String(contentsOfFile: server.dataDirectory + "/tools/\(victim)/.kiln-token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let asVictim = ["KILN_URL": server.apiURL, "KILN_TOKEN": token]

        let own = try ForeignListener(uid: try Self.uid(of: victim), body: "victim's page")
        defer { own.stop() }
        try await own.waitUntilListening()
        let foreign = try ForeignListener(uid: try Self.uid(of: squatter), body: "squatter's page")
        defer { foreign.stop() }
        try await foreign.waitUntilListening()

        // Registration: another tool's listener and the platform's own are refused, its own is not.
        let stolen = try kiln("routes", "add", "--tool", victim, ".*", "127.0.0.1:\(foreign.port)", environment: asVictim)
        #expect(stolen.status == 1)
        #expect(stolen.standardError.contains("127.0.0.1:\(foreign.port) is not a listener of tool '\(victim)'"), "\(stolen)")
        let api = try kiln("routes", "add", "--tool", victim, ".*", "127.0.0.1:\(server.apiPort)", environment: asVictim)
        #expect(api.status == 1)
        #expect(api.standardError.contains("listener of the platform itself"), "\(api)")
        let routed = try kiln("routes", "add", "--tool", victim, ".*", "127.0.0.1:\(own.port)", environment: asVictim)
        #expect(routed.status == 0, "\(routed)")
        #expect(try await Self.eventually { try curl([server.httpURL + "/\(victim)/"]).body == "victim's page" })

        // The victim's server goes away and the squatter takes its port.
        let port = own.port
        own.stop()
        foreign.stop()
        let squatting = try ForeignListener(uid: try Self.uid(of: squatter), port: port, body: "squatter's page")
        defer { squatting.stop() }
        try await squatting.waitUntilListening()

        // The fast path (HTTP/1.1) and the general path (HTTP/1.0) both refuse to hand it traffic.
        for arguments in [[String](), ["--http1.0"]] {
            let answer = try curl(arguments + [server.httpURL + "/\(victim)/"])
            #expect(answer.status == 502, "\(arguments): \(answer.status) \(answer.body)")
            #expect(!answer.body.contains("squatter"), "\(arguments)")
        }
        // With another backend of its own in the group, the squatted one is passed over like a
        // refused connect: every request lands on the victim's own server.
        let second = try ForeignListener(uid: try Self.uid(of: victim), body: "victim's second page")
        defer { second.stop() }
        try await second.waitUntilListening()
        let added = try kiln("routes", "add", "--tool", victim, ".*", "127.0.0.1:\(second.port)", environment: asVictim)
        #expect(added.status == 0, "\(added)")
        #expect(try await Self.eventually { try curl([server.httpURL + "/\(victim)/"]).body == "victim's second page" })
        for arguments in [[String](), ["--http1.0"], [], ["--http1.0"]] {
            let answer = try curl(arguments + [server.httpURL + "/\(victim)/"])
            #expect(answer.status == 200 && answer.body == "victim's second page", "\(arguments): \(answer.status) \(answer.body)")
        }

        // The server stays up: the API answers, and so does the proxy for the squatter's own route.
        #expect(try kiln("tools", "show", squatter, "--data", server.dataDirectory).status == 0)
        #expect(try kiln("routes", "add", "--data", server.dataDirectory, "--tool", squatter, ".*", "127.0.0.1:\(port)").status == 0)
        #expect(try await Self.eventually { try curl([server.httpURL + "/\(squatter)/"]).body == "squatter's page" })
    }

    /// The replica's backend (`127.0.0.1:PORT`) as `webservice status --json` reports it.
    static func replicaBackend(of tool: String, server: KilnServerProcess) throws -> String? {
        let result = try kiln("webservice", "status", "--json", "--tool", tool, "--data", server.dataDirectory)
        let json = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        let replicas = json?["replicas"] as? [[String: Any]] ?? []
        guard replicas.first?["phase"] as? String == "serving" else { return nil }
        return replicas.first?["backend"] as? String
    }

    @Test func aReplicaWhosePortWasTakenWhileItWasDownMovesAndIsNeverRoutedToTheSquatter() async throws {
        let server = try KilnServerProcess(extraArguments: ["--allow-http"])
        defer { server.terminate() }
        let (victim, squatter) = (uniqueToolName("owr"), uniqueToolName("ows"))
        defer {
            _ = try? kiln("webservice", "stop", "--tool", victim, "--data", server.dataDirectory)
            _ = try? kiln("tools", "delete", victim, "--data", server.dataDirectory)
            _ = try? kiln("tools", "delete", squatter, "--data", server.dataDirectory)
        }
        for tool in [victim, squatter] {
            #expect(try kiln("tools", "create", tool, "--data", server.dataDirectory).status == 0)
        }
        let page = server.dataDirectory + "/tools/\(victim)/public_html/index.html"
        try FileManager.default.createDirectory(atPath: (page as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "victim's static page".write(toFile: page, atomically: true, encoding: .utf8)
        _ = chown((page as NSString).deletingLastPathComponent, try Self.uid(of: victim), gid_t.max)
        _ = chown(page, try Self.uid(of: victim), gid_t.max)
        let started = try kiln("webservice", "static", "start", "--tool", victim, "--data", server.dataDirectory)
        #expect(started.status == 0, "\(started)")
        let backend = try #require(try Self.replicaBackend(of: victim, server: server))
        #expect(try curl([server.httpURL + "/\(victim)/"]).body == "victim's static page")

        // A clean stop stops the tool's server; the squatter takes its port before the next start.
        server.terminate()
        let port = try #require(Int(backend.split(separator: ":").last ?? ""))
        let squatting = try ForeignListener(uid: try Self.uid(of: squatter), port: port, body: "squatter's page")
        defer { squatting.stop() }
        try await squatting.waitUntilListening()
        try server.start()

        var moved: String?
        _ = try await Self.eventually(.seconds(20)) {
            moved = try Self.replicaBackend(of: victim, server: server)
            return moved != nil
        }
        #expect(moved != nil && moved != backend, "the replica did not move off \(backend): \(moved ?? "none")")
        for _ in 0..<4 {
            let answer = try curl([server.httpURL + "/\(victim)/"])
            #expect(answer.body == "victim's static page", "\(answer.status) \(answer.body)")
        }
    }
}
