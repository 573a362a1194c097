import Foundation
import KilnTesting
import Testing

/// The rest of Toolforge's `jobs` through the real binary against a real `kiln serve`: HTTP
/// health checks (readiness, and the liveness restart of a replica that stops answering), the
/// file-log flags, `--port N/tcp`, `list -o`, `logs -l`, `load` with every key Toolforge takes,
/// `emails: all`, and the `toolforge` command's own words. Commands run off the cooperative
/// pool (`onOwnThread`), and every wait sleeps asynchronously.
@Suite(.serialized) struct JobsToolforgeTests {
    typealias Fixture = JobsTests.Fixture

    static func fixture(_ prefix: String = "jt", serverArguments: [String] = []) async throws -> Fixture {
        try await onOwnThread { try Fixture(prefix, serverArguments: serverArguments) }
    }

    /// `kiln jobs ARGUMENTS --tool TOOL --data DATA`.
    static func jobs(_ fixture: Fixture, _ arguments: String...) async throws -> CommandResult {
        try await onOwnThread { try fixture.jobs(arguments: arguments) }
    }

    static func show(_ fixture: Fixture, _ job: String) async throws -> [String: Any] {
        let result = try await jobs(fixture, "show", job, "--json")
        guard result.status == 0, let json = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        else { throw TestFailure("show \(job): \(result)") }
        return json
    }

    static func stop(_ fixture: Fixture) async {
        _ = try? await onOwnThread { fixture.stop() }
    }

    /// Asks `body` every 200 ms until it gives a value; fails after `timeout`.
    @discardableResult
    static func eventually<T>(_ what: String, timeout: Duration = .seconds(30), _ body: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let value = try await body() { return value }
            guard ContinuousClock.now < deadline else { throw TestFailure("not within \(timeout): \(what)") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    static func replica(_ status: [String: Any]) -> [String: Any]? { (status["replica_states"] as? [[String: Any]])?.first }

    // MARK: Health checks

    @Test func aReplicaIsReadyOnItsHTTPCheckAndRestartedWhenItStopsAnswering() async throws {
        let fixture = try await Self.fixture()
        try fixture.write("stuck.py", StuckHealthServer.script)
        let run = try await Self.jobs(
            fixture, "run", "web", "--command", "exec python3 stuck.py", "--image", "python3.11", "--continuous", "--port", "8080/tcp",
            "--health-check-http", "/healthz")
        #expect(run.status == 0, "\(run)")

        // Its port accepts, but /healthz answers 503: started, not ready.
        try await Self.eventually("the server's first start") { fixture.pids("stuck.pids").first }
        try await Task.sleep(for: .seconds(1.5))
        #expect(try await Self.show(fixture, "web")["status"] as? String == "Starting")
        try fixture.write("ready", "")
        try await Self.eventually("Running once /healthz answers 200") {
            try await Self.show(fixture, "web")["status"] as? String == "Running" ? true : nil
        }
        let show = try await Self.jobs(fixture, "show", "web").standardOutput
        #expect(JobsTests.field("Health check", in: show) == "http: /healthz", "\(show)")
        #expect(JobsTests.field("Port", in: show)?.hasPrefix("8080/tcp") == true, "\(show)")
        let dump = try await Self.jobs(fixture, "dump").standardOutput
        #expect(dump.contains("health-check-http: /healthz") && dump.contains("port: 8080"), "\(dump)")
        let first = try #require(fixture.pids("stuck.pids").first)

        // Stuck: its check gets no answer three times in a row (10 s apart, 5 s each), and it is
        // killed and started again, as Kubernetes' liveness probe does.
        try fixture.write("hang", "")
        let restarted = try await Self.eventually("the stuck replica to be restarted", timeout: .seconds(90)) {
            let status = try await Self.show(fixture, "web")
            return Self.replica(status)?["restarts"] as? Int == 1 ? status : nil
        }
        try FileManager.default.removeItem(atPath: fixture.home + "/hang")
        let lastExit = Self.replica(restarted)?["last_exit"] as? [String: Any]
        let reason = (lastExit?["unhealthy"] as? [String: Any])?["reason"] as? String ?? ""
        #expect(reason.contains("health check failed 3 times in a row"), "\(restarted)")
        #expect(reason.contains("GET /healthz: no answer within 5 s"), "\(restarted)")
        try await Self.eventually("the stuck process to be gone", timeout: .seconds(15)) { isGone(first) ? true : nil }
        try await Self.eventually("Running again") {
            try await Self.show(fixture, "web")["status"] as? String == "Running" ? true : nil
        }
        #expect(fixture.pids("stuck.pids").count == 2, "\(fixture.pids("stuck.pids"))")
        // The restart and its reason are in `show`: the hint and the killed life in the history.
        let again = try await Self.jobs(fixture, "show", "web").standardOutput
        let hints = JobsTests.field("Hints", in: again) ?? ""
        #expect(hints.contains("Restarted 1 times.") && hints.contains("unhealthy: its health check failed"), "\(again)")
        #expect(again.contains("failed: unhealthy"), "the killed life is not in the history:\n\(again)")
        await Self.stop(fixture)
    }

    // MARK: Flags

    @Test func fileLogFlagsAndPortsAreTakenAsToolforgeTakesThem() async throws {
        let fixture = try await Self.fixture()
        let logged = try await Self.jobs(
            fixture, "run", "logged", "--command", "echo to-out; echo to-err >&2", "--image", "bookworm", "--filelog", "-o", "mine.out",
            "-e", "mine.err", "--wait")
        #expect(logged.status == 0, "\(logged)")
        #expect(fixture.read("mine.out") == "to-out\n" && fixture.read("mine.err") == "to-err\n")
        let quiet = try await Self.jobs(fixture, "run", "quiet", "--command", "echo nothing", "--image", "bookworm", "--no-filelog", "--wait")
        #expect(quiet.status == 0, "\(quiet)")
        #expect(fixture.read("quiet.out") == nil)

        // Options that say opposite things are usage errors naming both, and create nothing.
        let refusals: [([String], String)] = [
            (["--filelog", "--no-filelog"], "argument --no-filelog: not allowed with argument --filelog"),
            (["--no-filelog", "-o", "x.out"], "argument --filelog-stdout: not allowed with argument --no-filelog"),
            (["--continuous", "--port", "5353/udp"], "5353/udp cannot be served here"),
            (["--continuous", "--port", "70000"], "port must be from 1 to 65535"),
            (["--continuous", "-p", "http"], "--port"),
            (["--continuous", "--health-check-http", "/healthz"], "--health-check-http requires --port"),
            (["--continuous", "-p", "8080", "--health-check-http", "/a", "--health-check-script", "true"], "not allowed with"),
        ]
        for (options, message) in refusals {
            let result = try await onOwnThread {
                try fixture.jobs(arguments: ["run", "refused", "--command", "true", "--image", "bookworm"] + options)
            }
            #expect(result.status == 2 && result.messages.contains(message), "\(options): \(result)")
        }
        #expect(try await onOwnThread { try fixture.names() } == ["logged", "quiet"])

        // The server refuses them too, whatever the client (a UDP port, a port out of range, a
        // path that would smuggle into the request line).
        let bodies: [(String, String)] = [
            (#""port":5353,"port_protocol":"udp""#, "port"), (#""port":0"#, "port"),
            (#""port":8080,"health_check_http":"/a\r\nX: y""#, "health-check-http"), (#""health_check_http":"/a""#, "health-check-http"),
        ]
        for (fields, field) in bodies {
            let body = #"{"name":"raw","command":"true","image":"bookworm","continuous":true,\#(fields)}"#
            let response = try await onOwnThread {
                try curl([
                    "-X", "POST", "-H", "Authorization: Bearer \(fixture.server.adminToken)", "-H", "Content-Type: application/json",
                    "--data-binary", body, fixture.server.apiURL + "/v1/tools/\(fixture.tool)/jobs",
                ])
            }
            #expect(response.status == 400, "\(body): \(response.status) \(response.body)")
            #expect(response.body.contains(#""field":"\#(field)""#), "\(body): \(response.body)")
        }

        let port = try await Self.jobs(
            fixture, "run", "listener", "--command", "exec sleep 600", "--image", "bookworm", "--continuous", "-p", "8081/tcp")
        #expect(port.status == 0, "\(port)")
        let show = try await Self.jobs(fixture, "show", "listener").standardOutput
        #expect(JobsTests.field("Port", in: show)?.hasPrefix("8081/tcp, reached at 127.") == true, "\(show)")
        #expect(JobsTests.field("Health check", in: show) == "none", "\(show)")
        await Self.stop(fixture)
    }

    @Test func listPrintsNormalLongOrNamesAndLogsPrintsTheLastLines() async throws {
        let fixture = try await Self.fixture()
        for name in ["alpha", "beta"] {
            let run = try await Self.jobs(fixture, "run", name, "--command", "for i in 1 2 3 4 5; do echo line-$i; done", "--image", "bookworm", "--wait")
            #expect(run.status == 0, "\(run)")
        }
        let names = try await Self.jobs(fixture, "list", "-o", "name")
        #expect(names.status == 0 && names.standardOutput == "alpha\nbeta\n", "\(names)")
        let normal = try await Self.jobs(fixture, "list")
        #expect(try await Self.jobs(fixture, "list", "--output", "normal").standardOutput == normal.standardOutput)
        let long = try await Self.jobs(fixture, "list", "-o", "long")
        let header = JobsTests.tableRows(long.standardOutput).first ?? []
        #expect(
            header == [
                "Job name:", "Command:", "Job type:", "Image:", "Port:", "File log:", "Output log:", "Error log:", "Emails:", "Resources:",
                "Replicas:", "Mounts:", "Retry:", "Timeout:", "Health check:", "Status:",
            ], "\(long)")
        // --long and -l stay, as -o long.
        #expect(try await Self.jobs(fixture, "list", "--long").standardOutput == long.standardOutput)
        #expect(try await Self.jobs(fixture, "list", "-l").standardOutput == long.standardOutput)
        let wide = try await Self.jobs(fixture, "list", "-o", "wide")
        #expect(wide.status == 2 && wide.messages.contains("wide"), "\(wide)")

        let last = try await Self.jobs(fixture, "logs", "alpha", "-l", "2", "--stream", "out")
        #expect(last.status == 0 && last.standardOutput == "line-4\nline-5\n", "\(last)")
        let lastLong = try await Self.jobs(fixture, "logs", "alpha", "--last", "1", "--stream", "out")
        #expect(lastLong.standardOutput == "line-5\n", "\(lastLong)")
        await Self.stop(fixture)
    }

    // MARK: load

    static let everyKey = """
        - name: web
          command: exec python3 -m http.server "$PORT" --bind 127.0.0.1
          image: python3.11
          continuous: true
          port: 8090/tcp
          replicas: 1
          health-check-http: /
          mem: 256Mi
          cpu: '0.25'
          emails: none
          mount: all
          filelog: true
          filelog-stdout: web-out.log
          filelog-stderr: web-err.log
        - name: nightly
          command: echo nightly
          image: bookworm
          schedule: '@daily'
          timeout: 600
          retry: 1
          no-filelog: true
        - name: once
          command: echo once
          image: bookworm
          wait: 60
          port-protocol: tcp
        """

    @Test func loadTakesEveryKeyToolforgeTakesAndWarnsOfOthersWithTheirLine() async throws {
        let fixture = try await Self.fixture()
        let file = try makeTemporaryDirectory(prefix: "kl") + "/jobs.yaml"
        try Self.everyKey.write(toFile: file, atomically: true, encoding: .utf8)
        let loaded = try await Self.jobs(fixture, "load", file)
        #expect(loaded.status == 0, "\(loaded)")
        #expect(loaded.standardOutput.contains("created: web, nightly, once"), "\(loaded)")
        #expect(loaded.messages.contains("WARNING: jobs.yaml line 26, job 'once', port-protocol"), "\(loaded)")
        #expect(loaded.messages.contains("did you mean 'port'"), "\(loaded)")
        try await Self.eventually("the loaded web job to be Running") {
            try await Self.show(fixture, "web")["status"] as? String == "Running" ? true : nil
        }
        let web = try await Self.show(fixture, "web")
        #expect(web["health_check"] as? String == "http: /", "\(web)")
        #expect(web["port"] as? Int == 8090 && web["port_protocol"] as? String == "tcp", "\(web)")
        // What dump writes loads back unchanged.
        let dumped = try makeTemporaryDirectory(prefix: "kd") + "/dumped.yaml"
        #expect(try await Self.jobs(fixture, "dump", "-f", dumped).status == 0)
        let again = try await Self.jobs(fixture, "load", dumped)
        #expect(again.status == 0 && again.standardOutput.contains("nothing changed"), "\(again)")
        await Self.stop(fixture)
    }

    // MARK: emails: all

    @Test func emailsAllMailsTheStartOfEachRunAndItsEnd() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        let server = try await onOwnThread {
            try KilnServerProcess(extraArguments: [
                "--smtp", "\(sink.host):\(sink.port)", "--mail-domain", "example.org", "--mail-from", "kiln@example.org",
            ])
        }
        defer { _ = server.terminate() }
        let tool = uniqueToolName("ma")
        // Mail goes to the tool's maintainers.
        let created = try await onOwnThread { try kiln("tools", "create", tool, "--maintainer", "ada", "--data", server.dataDirectory) }
        try #require(created.status == 0, "\(created)")
        @Sendable func jobs(_ arguments: [String]) async throws -> CommandResult {
            try await onOwnThread { try kiln(arguments: ["jobs"] + arguments + ["--tool", tool, "--data", server.dataDirectory]) }
        }
        let all = try await jobs(["run", "told", "--command", "echo done", "--image", "bookworm", "--emails", "all", "--wait"])
        #expect(all.status == 0, "\(all)")
        let finish = try await jobs(["run", "ended", "--command", "true", "--image", "bookworm", "--emails", "onfinish", "--wait"])
        #expect(finish.status == 0, "\(finish)")
        let messages = try await Self.eventually("three mails") {
            let messages = try sink.messages()
            return messages.count >= 3 ? messages : nil
        }
        try await Task.sleep(for: .milliseconds(500))
        let told = try sink.messages().filter { $0.text.contains("X-Kiln-Job: told") }
        #expect(told.count == 2, "\(messages.map(\.text))")
        #expect(told.contains { $0.text.contains("Subject: [kiln] \(tool)/told: run") && $0.text.contains("started a run") })
        #expect(told.contains { $0.text.contains("succeeded") })
        #expect(told.allSatisfy { $0.recipients == ["ada@example.org"] })
        let ended = try sink.messages().filter { $0.text.contains("X-Kiln-Job: ended") }
        #expect(ended.count == 1 && !(ended.first?.text.contains("started a run") ?? true), "\(ended.map(\.text))")
        _ = try await jobs(["flush"])
        _ = try await onOwnThread { server.terminate() }
    }

    // MARK: toolforge

    @Test func toolforgeSaysItsHelpAndItsCommandsAsToolforgeDoes() async throws {
        let fixture = try await Self.fixture()
        let link = try makeTemporaryDirectory(prefix: "ktf") + "/toolforge"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: KilnBinary.path)
        let asKiln: @Sendable ([String]) throws -> CommandResult = { try kiln(arguments: ["toolforge"] + $0) }
        let asToolforge: @Sendable ([String]) throws -> CommandResult = { try runCommand(link, $0) }
        for (label, toolforge) in [("kiln toolforge", asKiln), ("toolforge", asToolforge)] {
            for arguments in [[], ["--help"], ["-v", "--help"]] {
                let help = try await onOwnThread { try toolforge(arguments) }
                #expect(help.status == 0, "\(label) \(arguments): \(help)")
                let text = help.standardOutput
                #expect(text.hasPrefix("Usage: toolforge [OPTIONS] COMMAND [ARGS]...\n"), "\(label) \(arguments): \(help)")
                #expect(text.contains("\nOptions:\n") && text.contains("\nCommands:\n"), "\(label): \(text)")
                for command in ["envvars", "jobs", "webservice"] {
                    #expect(text.contains("\n  \(command) "), "\(label): no \(command) in\n\(text)")
                }
            }
            let unknown = try await onOwnThread { try toolforge(["foo"]) }
            #expect(unknown.status == 2, "\(label): \(unknown)")
            #expect(unknown.standardError.contains("Error: No such command 'foo'."), "\(label): \(unknown)")
            #expect(unknown.standardError.contains("envvars, jobs, webservice"), "\(label): \(unknown)")
            let option = try await onOwnThread { try toolforge(["--frobnicate", "jobs"]) }
            #expect(option.status == 2 && option.standardError.contains("No such option: --frobnicate"), "\(label): \(option)")

            let connection = ["--tool", fixture.tool, "--data", fixture.data]
            let list = try await onOwnThread { try toolforge(["-v", "jobs", "list", "-o", "name"] + connection) }
            #expect(list.status == 0, "\(label): \(list)")
            let envvars = try await onOwnThread { try toolforge(["envvars", "list"] + connection) }
            #expect(envvars.status == 0, "\(label): \(envvars)")
            let webservice = try await onOwnThread { try toolforge(["webservice", "--help"]) }
            #expect(webservice.status == 0 && webservice.messages.contains("webservice"), "\(label): \(webservice)")
        }
        await Self.stop(fixture)
    }
}
