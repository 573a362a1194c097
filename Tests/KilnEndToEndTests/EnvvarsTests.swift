import Foundation
import KilnTesting
import Testing

/// `kiln envvars` through the real binary: a tool's secret reaches its jobs and its webservice
/// (a changed value at their next start), never another tool, the store's file, or the log.
@Suite(.serialized) struct EnvvarsTests {
    static let secret = "s3cr3t-\(UInt64.random(in: 1...UInt64.max))"

    @Test func aToolsSecretReachesItsJobsAndWebserviceAndNoOneElse() throws {
        let fixture = try TenantIsolationTests.Fixture()
        defer { fixture.stop() }
        let (tool, other, data) = (fixture.tool, fixture.other, fixture.data)
        let kilnPath = KilnBinary.path

        // Created from standard input, as the tool itself; the value is never printed back.
        let created = try fixture.asTool("printf '%s' '\(Self.secret)' | \(kilnPath) envvars create API_KEY --data \(data)")
        #expect(created.status == 0, "\(created)")
        #expect(created.standardOutput.contains("API_KEY") && !created.standardOutput.contains(Self.secret), "\(created)")
        let listed = try fixture.kilnAsTool("envvars", "list")
        #expect(listed.standardOutput == "name     value\nAPI_KEY  ****************\n", "\(listed)")
        #expect(try fixture.kilnAsTool("envvars", "list", "--show-values").standardOutput.contains(Self.secret))
        #expect(try fixture.kilnAsTool("envvars", "show", "API_KEY", "--raw").standardOutput == Self.secret)
        #expect(try fixture.kilnAsTool("envvars", "quota").standardOutput == "  quota    used    available\n    100       1           99\n")
        #expect(try fixture.kilnAsTool("toolforge", "envvars", "list").status == 0, "also as toolforge envvars")

        // Names the platform keeps, and names of no shell, are refused with the rule.
        for name in ["TOOL_X", "KILN_X", "HOME", "PORT", "lower", "1X", "A-B"] {
            let refused = try fixture.kilnAsTool("envvars", "create", name, "v")
            #expect(refused.status != 0 && refused.standardError.contains("invalid envvar name"), "\(name): \(refused)")
        }

        // Another tool reads nothing of it: not through the API, not in its own processes.
        let stolen = try fixture.kilnAsTool("envvars", "list", "--show-values", "--tool", tool, tool: other)
        #expect(stolen.status != 0 && !stolen.standardOutput.contains(Self.secret), "\(stolen)")
        #expect(try fixture.kilnAsTool("envvars", "list", tool: other).standardOutput == "name    value\n")

        func job(_ name: String, of owner: String) throws -> String? {
            let run = try kiln(arguments: [
                "jobs", "run", name, "--command", "printf '%s' \"${API_KEY:-none}\"", "--image", "python3.11", "--wait", "--tool", owner,
                "--data", data,
            ])
            guard run.status == 0 else { throw TestFailure("\(run)") }
            return try? String(contentsOfFile: fixture.home(owner) + "/\(name).out", encoding: .utf8)
        }
        #expect(try job("first", of: tool) == Self.secret)
        #expect(try job("elsewhere", of: other) == "none")

        // The webservice gets it too; a changed value at its next start.
        try fixture.asTool(
            """
            cat > ~/env.py <<'PY'
            import http.server, os
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    body = os.environ.get("API_KEY", "none").encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
            http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
            PY
            """)
        let started = try kiln(arguments: [
            "webservice", "generic", "start", "--command", "exec python3 env.py", "--tool", tool, "--data", data,
        ])
        #expect(started.status == 0, "\(started)")
        let page = fixture.server.httpURL + "/\(tool)/"
        #expect(try JobsTests.poll("the webservice's answer", timeout: 30) { try curl([page]).status == 200 ? true : nil })
        #expect(try curl([page]).body == Self.secret)
        // Nor through the process: its environment is its own user's to read.
        let pids = try runCommand("/usr/bin/pgrep", ["-u", "tools.\(tool)", "-f", "env.py"]).standardOutput.split(separator: "\n")
        #expect(!pids.isEmpty)
        for pid in pids {
            let read = try fixture.asTool("cat /proc/\(pid)/environ", tool: other)
            #expect(read.status != 0 && !read.standardOutput.contains(Self.secret), "\(read)")
        }
        #expect(try fixture.kilnAsTool("envvars", "create", "API_KEY", "changed").status == 0)
        #expect(try kiln(arguments: ["webservice", "restart", "--tool", tool, "--data", data]).status == 0)
        #expect(try JobsTests.poll("the changed value", timeout: 30) { try curl([page]).body == "changed" ? true : nil })
        #expect(try job("second", of: tool) == "changed")

        // Deleted: gone from the next start on.
        #expect(try fixture.kilnAsTool("envvars", "delete", "API_KEY", "--yes-im-sure").status == 0)
        #expect(try job("third", of: tool) == "none")
        let missing = try fixture.kilnAsTool("envvars", "show", "API_KEY")
        #expect(missing.status == 1 && missing.standardError.contains("does not exist"), "\(missing)")

        // Neither the store's files nor the server's log hold a value.
        for suffix in ["", "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: data + "/kiln.sqlite" + suffix))) ?? Data()
            #expect(bytes.range(of: Data(Self.secret.utf8)) == nil, "kiln.sqlite\(suffix) holds the value")
            #expect(bytes.range(of: Data("changed".utf8)) == nil, "kiln.sqlite\(suffix) holds the value")
        }
        #expect(!fixture.server.log.contains(Self.secret))
        _ = try? kiln(arguments: ["webservice", "stop", "--tool", tool, "--data", data])
    }
}
