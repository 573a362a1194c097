import Foundation
import KilnTesting
import Testing

/// Numbers no tool may send, through the real binary against a real `kiln serve` (as root, with
/// Unix users): each is a 4xx naming its field, and the server, which once trapped on `mem: 1e19`,
/// still answers afterwards.
@Suite(.serialized) struct HostileNumbersTests {
    @Test func hostileNumbersAreRefusedNamingTheFieldAndTheServerLivesOn() throws {
        let server = try KilnServerProcess()
        defer { _ = server.terminate() }
        let tool = uniqueToolName("numhostile")
        let created = try kiln("tools", "create", tool, "--data", server.dataDirectory)
        try #require(created.status == 0, "\(created)")
        defer { _ = try? kiln("tools", "delete", tool, "--data", server.dataDirectory) }

        // jobs.yaml, parsed on the server: the error names the file, the line and the field.
        let file = try makeTemporaryDirectory(prefix: "kn") + "/jobs.yaml"
        try "- name: big\n  command: echo hi\n  image: bookworm\n  mem: 1e19\n".write(toFile: file, atomically: true, encoding: .utf8)
        let load = try kiln("jobs", "load", file, "--tool", tool, "--data", server.dataDirectory)
        #expect(load.status != 0)
        #expect(load.messages.contains("line 4"), "\(load)")
        #expect(load.messages.contains("mem"), "\(load)")
        #expect(load.messages.contains("out of range"), "\(load)")

        // JSON bodies straight to the API, as a tool's own client could send them.
        func post(_ path: String, _ body: String) throws -> CurlResponse {
            try curl([
                "-X", "POST", "-H", "Authorization: Bearer \(server.adminToken)", "-H", "Content-Type: application/json",
                "--data-binary", body, server.apiURL + "/v1/tools/\(tool)" + path,
            ])
        }
        let cases: [(String, String, String)] = [
            ("/jobs", #"{"name":"big","command":"true","image":"bookworm","continuous":true,"replicas":16,"memory":{"bytes":-1e18}}"#, "memory"),
            ("/jobs", #"{"name":"big","command":"true","image":"bookworm","continuous":true,"replicas":16,"cpu":{"millicores":9223372036854775807}}"#, "cpu"),
            ("/jobs", #"{"name":"big","command":"true","image":"bookworm","retry":1e308}"#, "retry"),
            ("/webservice/start", #"{"type":"python3.11","replicas":1e308}"#, "replicas"),
            ("/webservice/start", #"{"type":"python3.11","mem":"1e19"}"#, "mem"),
            ("/webservice/start", #"{"type":"python3.11","replicas":16,"mem":"4Gi"}"#, "mem"),
        ]
        for (path, body, field) in cases {
            let response = try post(path, body)
            #expect((400..<500).contains(response.status), "\(body): \(response.status) \(response.body)")
            let error = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: [String: Any]])?["error"]
            let named = (error?["context"] as? [String: String])?["field"] ?? ""
            #expect(named == field || named.hasPrefix(field + "."), "\(body): \(response.body)")
        }

        #expect(server.isRunning, "kiln serve died:\n\(server.log)")
        let list = try kiln("jobs", "list", "--tool", tool, "--data", server.dataDirectory)
        #expect(list.status == 0, "\(list)")
        let tools = try curl(["-H", "Authorization: Bearer \(server.adminToken)", server.apiURL + "/v1/tools"])
        #expect(tools.status == 200)
    }
}
