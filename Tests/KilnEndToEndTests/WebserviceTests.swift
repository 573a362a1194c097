import Foundation
import KilnTesting
import Testing

/// `kiln webservice` through the real binary: real app servers (gunicorn, lighttpd + php-cgi,
/// node, Kiln's own static server, a generic command) started as the tool, reached through the
/// proxy, restarted when they die, adopted across a `kill -9` of the platform.
@Suite(.serialized) struct WebserviceTests {
    /// A server with a tool whose home holds the files of each webservice type.
    final class Fixture: Sendable {
        let server: KilnServerProcess
        let tool: String
        var home: String { server.dataDirectory + "/tools/" + tool }
        var data: String { server.dataDirectory }

        init(_ prefix: String = "w", serverArguments: [String] = ["--allow-http"], gridAPIHost: String? = nil) throws {
            server = try KilnServerProcess(extraArguments: serverArguments, gridAPIHost: gridAPIHost)
            tool = uniqueToolName(prefix)
            let created = try kiln("tools", "create", tool, "--data", server.dataDirectory)
            guard created.status == 0 else { throw TestFailure("tools create: \(created)") }
        }

        func write(_ relativePath: String, _ contents: String) throws {
            try writeAsTool(contents, to: relativePath, inHome: home)
        }

        /// `kiln webservice ARGUMENTS --tool TOOL --data DATA`, as the admin.
        func webservice(_ arguments: String...) throws -> CommandResult {
            try kiln(arguments: ["webservice"] + arguments + ["--tool", tool, "--data", data])
        }

        func status() throws -> [String: Any] {
            let result = try webservice("status", "--json")
            guard result.status == 0,
                let json = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
            else { throw TestFailure("status: \(result)") }
            return json
        }

        func replicas() throws -> [[String: Any]] { try status()["replicas"] as? [[String: Any]] ?? [] }

        func get(_ path: String = "/") throws -> CurlResponse { try curl([server.httpURL + "/" + tool + path]) }

        func stop() {
            _ = try? webservice("stop")
            _ = server.terminate()
        }
    }

    static let flaskApp = """
        import os
        from flask import Flask, request, url_for

        app = Flask(__name__)


        @app.route("/")
        def index():
            return {"type": "python", "path": request.path, "link": url_for("index"), "pid": os.getpid()}
        """

    static let nodeServer = """
        const http = require("http");
        http.createServer((request, response) => {
          response.setHeader("Content-Type", "application/json");
          response.end(JSON.stringify({type: "node", url: request.url, pid: process.pid}));
        }).listen(Number(process.env.PORT), "127.0.0.1");
        """

    /// A program of the tool's own that listens on $PORT and answers every path.
    static let genericServer = """
        import http.server, json, os

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps({"type": "generic", "path": self.path, "pid": os.getpid()}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *arguments):
                pass

        http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
        """

    @Test func everyTypeIsServedThroughTheProxyAsTheTool() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        try fixture.write("www/python/src/app.py", Self.flaskApp)
        try fixture.write("public_html/index.php", #"<?php header("Content-Type: application/json"); echo json_encode(["type" => "php", "uri" => $_SERVER["REQUEST_URI"]]);"#)
        try fixture.write("public_html/index.html", "<h1>static page</h1>\n")
        try fixture.write("www/js/package.json", #"{"name": "t", "version": "1.0.0", "scripts": {"start": "node server.js"}}"#)
        try fixture.write("www/js/server.js", Self.nodeServer)
        try fixture.write("server.py", Self.genericServer)

        let cases: [(arguments: [String], expected: String)] = [
            (["python3.11", "start"], #""type":"python""#),
            (["php8.2", "start"], #""type":"php""#),
            (["node18", "start"], #""type":"node""#),
            (["static", "start"], "<h1>static page</h1>"),
            (["generic", "start", "--command", "exec python3 server.py"], #""type": "generic""#),
        ]
        for (arguments, expected) in cases {
            let started = try kiln(arguments: ["webservice"] + arguments + ["--tool", fixture.tool, "--data", fixture.data])
            #expect(started.status == 0, "\(arguments): \(started)\n\(fixture.server.log.suffix(2000))")
            let page = try fixture.get("/")
            #expect(page.status == 200, "\(arguments)")
            let compact = expected.replacingOccurrences(of: " ", with: "")
            #expect(page.body.replacingOccurrences(of: " ", with: "").contains(compact), "\(arguments): \(page.body)")
            let byHost = try curl(["-H", "Host: \(fixture.tool).localhost", fixture.server.httpURL + "/"])
            #expect(byHost.body.replacingOccurrences(of: " ", with: "").contains(compact), "by host, \(arguments): \(byHost.body)")
            let status = try fixture.status()
            #expect(status["state"] as? String == "running")
            if geteuid() == 0, let pid = (status["replicas"] as? [[String: Any]])?.first?["pid"] as? Int {
                let owner = try runCommand("/bin/ps", ["-o", "user=", "-p", String(pid)]).standardOutput
                #expect(owner.trimmingCharacters(in: .whitespacesAndNewlines) == "tools.\(fixture.tool)", "\(arguments)")
            }
            #expect(FileManager.default.fileExists(atPath: fixture.home + "/service.manifest"))
            let stopped = try fixture.webservice("stop")
            #expect(stopped.status == 0, "\(stopped)")
            #expect(try fixture.get("/").status == 503)
            #expect(!FileManager.default.fileExists(atPath: fixture.home + "/service.manifest"))
        }
        // Under the tool's path, the Flask app's own links carry the prefix, as on Toolforge.
        #expect(try fixture.webservice("python3.11", "start").status == 0)
        #expect(try fixture.get("/").body.contains(#""link":"/\#(fixture.tool)/""#))
    }

    @Test func theTemplateGivesDefaultsThatFlagsOverride() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        try fixture.write("public_html/index.html", "templated\n")
        try fixture.write("service.template", "type: static\nmem: 256Mi\ncpu: '0.25'\nhealth-check-path: /index.html\nmemory: 1Gi\n")
        let started = try fixture.webservice("start")
        #expect(started.status == 0, "\(started)")
        #expect(started.messages.contains("WARNING: service.template line 5: unknown key 'memory' is ignored"), "\(started)")
        var status = try fixture.status()
        #expect(status["type"] as? String == "static")
        #expect(status["memory"] as? String == "256Mi")
        #expect(status["cpu"] as? String == "250m")
        #expect(status["health_check_path"] as? String == "/index.html")
        let enforcement = status["limit_enforcement"] as? [String: String]
        #expect(enforcement?["mem"] == "cgroup v1 memory limit (OOM kill)" || enforcement?["mem"] == "cgroup v2 memory limit (OOM kill)" || enforcement?["mem"] == "RLIMIT_DATA", "\(status)")
        #expect(enforcement?["pids"] != nil, "\(status)")
        #expect((status["limit_enforcement"] as? [String: String])?["cpu"]?.contains("CPU quota") == true, "\(status)")
        let human = try fixture.webservice("status")
        #expect(human.standardOutput.contains("256Mi, enforced by " + (enforcement?["mem"] ?? "?")), "\(human)")
        // The server runs in its replica's groups, within its tool's.
        let pid = try #require((status["replicas"] as? [[String: Any]])?.first?["pid"] as? Int)
        let groups = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
        #expect(groups.split(separator: "\n").contains { $0.contains("cpu") && $0.hasSuffix("/\(fixture.tool)/web-0") }, "\(groups)")
        let manifest = try String(contentsOfFile: fixture.home + "/service.manifest", encoding: .utf8)
        #expect(manifest.contains("web: static") && manifest.contains("mem: 256Mi"))
        // Starting twice is refused; flags override the template on the next start.
        let again = try fixture.webservice("start")
        #expect(again.status == 1 && again.standardError.contains("already running"), "\(again)")
        #expect(try fixture.webservice("stop").status == 0)
        #expect(try fixture.webservice("start", "--mem", "1Gi", "--replicas", "2").status == 0)
        status = try fixture.status()
        #expect(status["memory"] as? String == "1Gi")
        #expect((status["replicas"] as? [[String: Any]])?.count == 2)
        // A broken template is refused with its line and field, and nothing starts.
        #expect(try fixture.webservice("stop").status == 0)
        try fixture.write("service.template", "type: static\nreplicas: lots\n")
        let broken = try fixture.webservice("start")
        #expect(broken.status == 1)
        #expect(broken.standardError.contains("service.template line 2, replicas"), "\(broken)")
        #expect(try fixture.status()["state"] as? String == "stopped")
        // An unknown type lists the valid ones; a missing app says what is missing.
        try FileManager.default.removeItem(atPath: fixture.home + "/service.template")
        let unknown = try fixture.webservice("cobol", "start")
        #expect(unknown.standardError.contains("python3.11, python3.13, php8.2"), "\(unknown)")
        let noApp = try fixture.webservice("python3.11", "start")
        #expect(noApp.status == 1 && noApp.standardError.contains("app.py"), "\(noApp)")
        let types = try kiln("webservice", "types", "--data", fixture.data)
        #expect(types.standardOutput.contains("php8.2") && types.standardOutput.contains("lighttpd"))
    }

    @Test func aKilledServerIsServedAgainWithinTwoSeconds() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        try fixture.write("www/python/src/app.py", Self.flaskApp)
        #expect(try fixture.webservice("python3.11", "start").status == 0)
        let pid = try #require(try fixture.replicas().first?["pid"] as? Int)
        // The app answers with a worker's pid: every process of the old server's group.
        let oldGroup = Set(try runCommand("/usr/bin/pgrep", ["-g", String(pid)]).standardOutput.split(separator: "\n").map(String.init))
        #expect(oldGroup.count >= 2, "gunicorn runs a master and workers: \(oldGroup)")
        kill(Int32(pid), SIGKILL)
        let killedAt = Date()
        var served: TimeInterval?
        while Date().timeIntervalSince(killedAt) < 10 {
            if let answer = try? fixture.get("/"), answer.status == 200,
                let json = try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any],
                let worker = json["pid"] as? Int, !oldGroup.contains(String(worker))
            {
                served = Date().timeIntervalSince(killedAt)
                break
            }
            usleep(20_000)
        }
        // Nothing of the killed server is left: its workers went with it.
        for member in oldGroup { #expect(isGone(Int32(member)!), "process \(member) of the killed server survived") }
        let elapsed = try #require(served, "not served again within 10 s")
        print("webservice served again \(elapsed) s after kill -9 of its server")
        #expect(elapsed < 2)
        let replica = try #require(try fixture.replicas().first)
        #expect(replica["restarts"] as? Int == 1)
        #expect((replica["last_exit"] as? String)?.contains("signal 9") == true)
    }

    @Test func aServerThatExitsAtOnceBacksOffThenFails() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let started = try fixture.webservice("generic", "start", "--command", "echo cannot open the database >&2; exit 3")
        #expect(started.status == 1, "\(started)")
        let deadline = Date().addingTimeInterval(30)
        var status = try fixture.status()
        while status["state"] as? String != "failed", Date() < deadline {
            usleep(200_000)
            status = try fixture.status()
        }
        #expect(status["state"] as? String == "failed", "\(status)")
        #expect(status["last_exit_code"] as? Int == 3)
        #expect((status["failed_reason"] as? String)?.contains("5 failures") == true)
        #expect((status["error_log_tail"] as? [String])?.contains("cannot open the database") == true)
        let human = try fixture.webservice("status")
        #expect(human.standardOutput.contains("failed") && human.standardOutput.contains("cannot open the database"))
        let page = try fixture.get("/")
        #expect(page.status == 503)
        #expect(page.body.contains("failed"), "\(page.body)")
        // The operator sees it in the metrics: started again after each death but the last.
        let metrics = try curl(["-H", "Authorization: Bearer \(fixture.server.adminToken)", fixture.server.apiURL + "/metrics"])
        #expect(metrics.body.contains("\nkiln_webservice_replica_restarts_total 4\n"), "\(metrics.body)")
        #expect(metrics.body.contains("\nkiln_webservice_replicas{state=\"failed\"} 1.0\n"), "\(metrics.body)")
        // Started again by hand, it gets a fresh history.
        try fixture.write("public_html/index.html", "fixed\n")
        #expect(try fixture.webservice("stop").status == 0)
        #expect(try fixture.webservice("static", "start").status == 0)
        #expect(try fixture.get("/").body == "fixed\n")
    }

    @Test func afterKillNineOfThePlatformEverythingIsBackWithoutDuplicates() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        try fixture.write("www/python/src/app.py", Self.flaskApp)
        let started = try fixture.webservice("python3.11", "start", "--replicas", "2")
        #expect(started.status == 0, "\(started)\n\(fixture.server.log.suffix(2000))")
        let before = try fixture.replicas().compactMap { $0["pid"] as? Int }
        try #require(before.count == 2)
        fixture.server.kill9()
        // One replica dies while the platform is down (and is gone before it comes back).
        kill(Int32(before[1]), SIGKILL)
        let killed = Date()
        while !isGone(Int32(before[1])), Date().timeIntervalSince(killed) < 10 { usleep(10_000) }
        try fixture.server.restart()
        let deadline = Date().addingTimeInterval(20)
        var replicas = try fixture.replicas()
        while Date() < deadline, replicas.contains(where: { $0["phase"] as? String != "serving" }) {
            usleep(100_000)
            replicas = try fixture.replicas()
        }
        let after = replicas.compactMap { $0["pid"] as? Int }
        // Checked before indexing, so a failure reports itself instead of ending the test process.
        try #require(after.count == 2, "not both replicas back: \(replicas)\n\(fixture.server.log.suffix(3000))")
        #expect(after[0] == before[0], "the survivor was not adopted: \(before) → \(after)")
        #expect(after[1] != before[1])
        #expect(try fixture.get("/").status == 200)
        // No server of this tool runs but the two replicas' (gunicorn: a master and its workers each).
        let masters = try runCommand("/usr/bin/pgrep", ["-f", "gunicorn.*\(fixture.tool)"]).standardOutput
            .split(separator: "\n").compactMap { Int32($0) }
            .filter { pid in (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))
                .map { $0.split(separator: " ")[4] == Substring(String(pid)) } ?? false }
        #expect(Set(masters) == Set(after.map(Int32.init)), "process group leaders: \(masters), replicas: \(after)")
        // The adopted replica is still supervised: killed, it comes back.
        kill(Int32(after[0]), SIGKILL)
        let back = try waitForStatus(200, fixture.server.httpURL + "/\(fixture.tool)/", timeout: 10)
        #expect(back.status == 200)
    }

    @Test func replicasShareTheLoadAndOneKilledCostsAtMostOneRequest() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        try fixture.write("server.py", Self.genericServer)
        #expect(try fixture.webservice("generic", "start", "--replicas", "3", "--command", "exec python3 server.py").status == 0)
        let replicas = Set(try fixture.replicas().compactMap { $0["pid"] as? Int })
        #expect(replicas.count == 3)
        func servingPID() -> Int? {
            guard let answer = try? fixture.get("/"), answer.status == 200,
                let json = try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
            else { return nil }
            return json["pid"] as? Int
        }
        var seen = Set<Int>()
        for _ in 0..<60 { if let pid = servingPID() { seen.insert(pid) } }
        #expect(seen == replicas, "requests went to \(seen), replicas are \(replicas)")

        kill(Int32(try #require(replicas.first)), SIGKILL)
        var failures = 0
        for _ in 0..<60 where servingPID() == nil { failures += 1 }
        #expect(failures <= 1, "\(failures) requests failed after one replica of three was killed")
    }

    @Test func theMemoryLimitHolds() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        // 64 MiB allowed, 256 MiB asked for: the kernel kills the server (its memory group), or
        // where the host has no memory controller, the allocation fails inside it (RLIMIT_DATA).
        try fixture.write("hog.py", """
            import os, sys
            try:
                hog = bytearray(256 * 1024 * 1024)
            except MemoryError:
                print("allocation refused", file=sys.stderr, flush=True)
                raise SystemExit(4)
            print("allocated", file=sys.stderr, flush=True)
            os.execvp("python3", ["python3", "server.py"])
            """)
        try fixture.write("server.py", Self.genericServer)
        _ = try fixture.webservice("generic", "start", "--mem", "64Mi", "--command", "exec python3 hog.py")
        let deadline = Date().addingTimeInterval(10)
        var status = try fixture.status()
        while (status["last_exit_code"] as? Int) == nil, Date() < deadline {
            usleep(100_000)
            status = try fixture.status()
        }
        let tail = (status["error_log_tail"] as? [String]) ?? []
        if (status["limit_enforcement"] as? [String: String])?["mem"]?.contains("OOM kill") == true {
            #expect(status["last_exit_code"] as? Int == 137, "\(status)")
            #expect(tail.contains { $0.contains("killed by the kernel for using more than its memory limit (64Mi)") }, "\(status)")
        } else {
            #expect(status["last_exit_code"] as? Int == 4, "\(status)")
            #expect(tail.contains("allocation refused"), "\(status)")
        }
        // The same program with room enough serves.
        #expect(try fixture.webservice("stop").status == 0)
        #expect(try fixture.webservice("generic", "start", "--mem", "1Gi", "--command", "exec python3 hog.py").status == 0)
        #expect(try fixture.get("/").status == 200)
    }

    @Test func aToolCannotTouchAnotherToolsWebservice() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let other = uniqueToolName("o")
        let created = try kiln("tools", "create", other, "--data", fixture.data, "--json")
        let token = try #require(
            (try JSONSerialization.jsonObject(with: Data(created.standardOutput.utf8)) as? [String: Any])?["token"] as? String)
        try fixture.write("public_html/index.html", "mine\n")
        #expect(try fixture.webservice("static", "start").status == 0)
        let environment = ["KILN_URL": fixture.server.apiURL, "KILN_TOKEN": token]
        for arguments in [["status"], ["stop"], ["restart"], ["logs"], ["static", "start"]] {
            let result = try kiln(arguments: ["webservice"] + arguments + ["--tool", fixture.tool], environment: environment)
            #expect(result.status == 1, "\(arguments): \(result)")
            #expect(result.standardError.contains("may not act on tool '\(fixture.tool)'"), "\(arguments): \(result)")
        }
        #expect(try fixture.get("/").body == "mine\n")
        // Its own webservice it may see: none.
        let own = try kiln(arguments: ["webservice", "status"], environment: environment)
        #expect(own.status == 0 && own.standardOutput.contains("not running"), "\(own)")
    }

    @Test func logsShowWhatTheServerWrote() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        try fixture.write("www/python/src/app.py", Self.flaskApp)
        #expect(try fixture.webservice("python3.11", "start").status == 0)
        _ = try fixture.get("/?marker=seen")
        var logs = try fixture.webservice("logs", "--stream", "out")
        let deadline = Date().addingTimeInterval(5)
        while !logs.standardOutput.contains("marker=seen"), Date() < deadline {
            usleep(100_000)
            logs = try fixture.webservice("logs", "--stream", "out")
        }
        #expect(logs.standardOutput.contains("marker=seen"), "\(logs)")
        let errors = try fixture.webservice("logs", "--stream", "err", "--last", "50")
        #expect(errors.standardOutput.contains("Booting worker"), "\(errors)")
    }
}

/// Whether `pid` has exited (a zombie, not yet reaped by whoever adopted it, has).
func isGone(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return true }
    return stat[stat.index(close, offsetBy: 2)] == "Z"
}
