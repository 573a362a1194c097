import Foundation
import KilnTesting
import Testing

/// Tool accounts through the real `kiln` binary and a real `kiln serve`.
@Suite(.serialized) struct ToolAccountsTests {
    @Test func createListShowDeleteThroughTheCLI() throws {
        let server = try KilnServerProcess()
        defer { server.terminate() }
        let name = uniqueToolName()
        let created = try kiln("tools", "create", name, "--maintainer", "alice", "--maintainer", "bob", "--data", server.dataDirectory)
        #expect(created.status == 0, "\(created)")
        #expect(created.standardOutput.contains("Created tool '\(name)'"))
        #expect(created.standardOutput.contains("Token:      kiln_"))

        let list = try kiln("tools", "list", "--data", server.dataDirectory)
        #expect(list.status == 0)
        #expect(list.standardOutput.contains("NAME"))
        #expect(list.standardOutput.contains(name))
        #expect(list.standardOutput.contains("alice,bob"))

        let show = try kiln("tools", "show", name, "--json", "--data", server.dataDirectory)
        #expect(show.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(show.standardOutput.utf8)) as? [String: Any])
        #expect(json["name"] as? String == name)
        #expect(json["maintainers"] as? [String] == ["alice", "bob"])
        #expect(json["home"] as? String == server.dataDirectory + "/tools/" + name)

        let listJSON = try kiln("tools", "list", "--json", "--data", server.dataDirectory)
        let tools = try #require(try JSONSerialization.jsonObject(with: Data(listJSON.standardOutput.utf8)) as? [[String: Any]])
        #expect(tools.contains { $0["name"] as? String == name })

        let deleted = try kiln("tools", "delete", name, "--data", server.dataDirectory)
        #expect(deleted.status == 0, "\(deleted)")
        #expect(deleted.standardOutput.contains("archived"))
        let missing = try kiln("tools", "show", name, "--data", server.dataDirectory)
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("does not exist"))
        let again = try kiln("tools", "delete", name, "--data", server.dataDirectory)
        #expect(again.status == 1)
    }

    @Test(arguments: [
        ("Upper", "lower-case letter"), ("1abc", "lower-case letter"), ("under_score", "only lower-case letters"),
        ("ends-", "must not end"), (String(repeating: "a", count: 33), "longer than 32"),
    ])
    func badToolNamesAreRefusedWithTheRule(name: String, rule: String) throws {
        let server = try KilnServerProcess()
        defer { server.terminate() }
        let result = try kiln("tools", "create", name, "--data", server.dataDirectory)
        #expect(result.status == 1, "\(result)")
        #expect(result.standardError.contains(rule), "\(result)")
        #expect(result.standardError.split(separator: "\n").count == 1)
    }

    @Test func anUnreachableServerExitsTwo() throws {
        let directory = try makeTemporaryDirectory(prefix: "kn")
        let result = try kiln("tools", "list", "--data", directory)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.contains("cannot reach"))
        let overTCP = try kiln("tools", "list", environment: ["KILN_URL": "http://127.0.0.1:\(freeLoopbackPort())", "KILN_TOKEN": "x"])
        #expect(overTCP.status == 2, "\(overTCP)")
    }

    @Test func missingAndWrongTokensAreRefused() throws {
        let server = try KilnServerProcess()
        defer { server.terminate() }
        let missing = try kiln("tools", "list", environment: ["KILN_URL": server.apiURL])
        #expect(missing.status == 1, "\(missing)")
        #expect(missing.standardError.contains("authentication required"))
        let wrong = try kiln("tools", "list", environment: ["KILN_URL": server.apiURL, "KILN_TOKEN": "kiln_wrong"])
        #expect(wrong.status == 1, "\(wrong)")
        #expect(wrong.standardError.contains("not valid"))

        let raw = try curl([server.apiURL + "/v1/tools"])
        #expect(raw.status == 401)
        #expect(raw.body.contains(#""code":"unauthenticated""#))
        let rawWrong = try curl(["-H", "Authorization: Bearer nope", server.apiURL + "/v1/tools"])
        #expect(rawWrong.status == 401)
        let admin = try curl(["-H", "Authorization: Bearer \(server.adminToken)", server.apiURL + "/v1/tools"])
        #expect(admin.status == 200)
        let unknown = try curl(["-H", "Authorization: Bearer \(server.adminToken)", server.apiURL + "/v1/nothing"])
        #expect(unknown.status == 404)
        #expect(unknown.body.contains(#""error""#))
        let malformed = try curl([
            "-H", "Authorization: Bearer \(server.adminToken)", "-H", "Content-Type: application/json", "--data", "{not json",
            server.apiURL + "/v1/tools",
        ])
        #expect(malformed.status == 400)
        #expect(malformed.body.contains(#""code":"bad_request""#))
    }

    @Test func aToolActsOnItselfAlone() throws {
        let server = try KilnServerProcess()
        defer { server.terminate() }
        let (first, second) = (uniqueToolName("a"), uniqueToolName("b"))
        defer {
            _ = try? kiln("tools", "delete", first, "--data", server.dataDirectory)
            _ = try? kiln("tools", "delete", second, "--data", server.dataDirectory)
        }
        #expect(try kiln("tools", "create", first, "--data", server.dataDirectory).status == 0)
        #expect(try kiln("tools", "create", second, "--data", server.dataDirectory).status == 0)
        let token = try String(contentsOfFile: server.dataDirectory + "/tools/\(first)/.kiln-token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let asFirst = ["KILN_URL": server.apiURL, "KILN_TOKEN": token]

        #expect(try kiln("whoami", environment: asFirst).standardOutput == "tool \(first)\n")
        #expect(try kiln("tools", "show", first, environment: asFirst).status == 0)
        let list = try kiln("tools", "list", environment: asFirst)
        #expect(list.standardOutput.contains(first) && !list.standardOutput.contains(second))

        let show = try kiln("tools", "show", second, environment: asFirst)
        #expect(show.status == 1)
        #expect(show.standardError.contains("may not act on tool '\(second)'"))
        let route = try kiln("routes", "add", "--tool", second, ".*", "127.0.0.1:1", environment: asFirst)
        #expect(route.status == 1)
        #expect(route.standardError.contains("may not act on"))
        let create = try kiln("tools", "create", uniqueToolName("c"), environment: asFirst)
        #expect(create.status == 1)
        #expect(create.standardError.contains("admin"))

        let raw = try curl(["-H", "Authorization: Bearer \(token)", server.apiURL + "/v1/tools/\(second)"])
        #expect(raw.status == 403)
        #expect(raw.body.contains(#""code":"forbidden""#))
        let rawDelete = try curl(["-X", "DELETE", "-H", "Authorization: Bearer \(token)", server.apiURL + "/v1/tools/\(second)"])
        #expect(rawDelete.status == 403)
        let rawList = try curl(["-H", "Authorization: Bearer \(token)", server.apiURL + "/list"])
        #expect(rawList.status == 403)
    }

    @Test func anAcknowledgedToolSurvivesKillNine() throws {
        let server = try KilnServerProcess()
        defer { server.terminate() }
        let name = uniqueToolName()
        defer { _ = try? kiln("tools", "delete", name, "--data", server.dataDirectory) }
        let created = try kiln("tools", "create", name, "--data", server.dataDirectory)
        #expect(created.status == 0)
        server.kill9()
        try server.start()
        #expect(try kiln("tools", "show", name, "--data", server.dataDirectory).status == 0)
        let token = try String(contentsOfFile: server.dataDirectory + "/tools/\(name)/.kiln-token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try kiln("whoami", environment: ["KILN_URL": server.apiURL, "KILN_TOKEN": token]).standardOutput == "tool \(name)\n")
    }

    @Test func aKillDuringABurstOfCreatesLosesNothingAcknowledged() throws {
        let server = try KilnServerProcess(extraArguments: [])
        defer { server.terminate() }
        let names = (0..<24).map { _ in uniqueToolName("k") }
        let acknowledged = LockedNames()
        let group = DispatchGroup()
        for (index, name) in names.enumerated() {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                if index == 12 { server.kill9() }
                if let result = try? kiln("tools", "create", name, "--data", server.dataDirectory), result.status == 0 {
                    acknowledged.add(name)
                }
            }
        }
        group.wait()
        server.kill9()
        try server.start()
        let list = try kiln("tools", "list", "--json", "--data", server.dataDirectory)
        #expect(list.status == 0)
        let present = Set(
            (try JSONSerialization.jsonObject(with: Data(list.standardOutput.utf8)) as? [[String: Any]] ?? []).compactMap {
                $0["name"] as? String
            })
        #expect(!acknowledged.names.isEmpty)
        for name in acknowledged.names { #expect(present.contains(name), "acknowledged tool \(name) is missing") }
    }

    @Test func aSecondServerOnTheSameDataIsRefusedAndSIGTERMExitsCleanly() throws {
        let server = try KilnServerProcess()
        let second = try runCommand(
            KilnBinary.path,
            ["serve", "--data", server.dataDirectory, "--api", "127.0.0.1:\(freeLoopbackPort())", "--http",
             "127.0.0.1:\(freeLoopbackPort())", "--https", "off"],
            timeout: .seconds(20))
        #expect(second.status != 0)
        #expect(second.standardError.contains("another `kiln serve`"), "\(second)")
        #expect(server.terminate() == 0)
    }

    @Test(.enabled(if: geteuid() == 0, "Unix users need root"))
    func asRootEachToolHasItsOwnUnixUser() throws {
        let server = try KilnServerProcess()
        defer { server.terminate() }
        let name = uniqueToolName("u")
        let created = try kiln("tools", "create", name, "--data", server.dataDirectory)
        #expect(created.status == 0, "\(created)")
        let user = "tools.\(name)"
        let passwd = try runCommand("/usr/bin/getent", ["passwd", user])
        #expect(passwd.status == 0, "the Unix user \(user) is missing")
        let home = server.dataDirectory + "/tools/" + name
        var info = stat()
        #expect(stat(home, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o750)
        let uid = info.st_uid
        #expect(passwd.standardOutput.contains(":\(uid):"))
        var token = stat()
        #expect(stat(home + "/.kiln-token", &token) == 0)
        #expect(token.st_mode & 0o777 == 0o600)
        #expect(token.st_uid == uid)

        // Over the socket, the kernel says who is calling: the tool's user is that tool.
        let binary = try copyBinaryForOtherUsers()
        let asTool = try runCommand(binary, ["whoami", "--data", server.dataDirectory], asUser: user)
        #expect(asTool.status == 0, "\(asTool)")
        #expect(asTool.standardOutput == "tool \(name)\n")
        let other = try runCommand(binary, ["tools", "list", "--data", server.dataDirectory], asUser: user)
        #expect(other.standardOutput.contains(name))

        #expect(try kiln("tools", "delete", name, "--data", server.dataDirectory).status == 0)
        #expect(try runCommand("/usr/bin/getent", ["passwd", user]).status != 0)
    }
}

final class LockedNames: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func add(_ name: String) { lock.withLock { stored.append(name) } }
    var names: [String] { lock.withLock { stored } }
}

/// The build directory may not be reachable by other users: a copy in /tmp is.
func copyBinaryForOtherUsers() throws -> String {
    let directory = try makeTemporaryDirectory(prefix: "kb")
    let target = directory + "/kiln"
    if !FileManager.default.fileExists(atPath: target) {
        try FileManager.default.copyItem(atPath: KilnBinary.path, toPath: target)
    }
    chmod(target, 0o755)
    return target
}
