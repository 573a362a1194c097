import Foundation
import KilnTesting
import Testing

/// `kiln jobs` through the real binary against a real `kiln serve`: one-off, retried, timed-out,
/// continuous and scheduled jobs run as the tool's user on this host, `jobs.yaml` loads, a
/// tool's jobs kept from other tools, and Toolforge's command words.
@Suite(.serialized) struct JobsTests {
    /// A server with one tool.
    final class Fixture: Sendable {
        let server: KilnServerProcess
        let tool: String
        var home: String { server.dataDirectory + "/tools/" + tool }
        var data: String { server.dataDirectory }

        init(_ prefix: String = "j", serverArguments: [String] = []) throws {
            server = try KilnServerProcess(extraArguments: serverArguments)
            tool = uniqueToolName(prefix)
            let created = try kiln("tools", "create", tool, "--data", server.dataDirectory)
            guard created.status == 0 else { throw TestFailure("tools create: \(created)") }
        }

        /// `kiln jobs ARGUMENTS --tool TOOL --data DATA`, as the admin.
        func jobs(_ arguments: String...) throws -> CommandResult { try jobs(arguments: arguments) }

        func jobs(arguments: [String], tool: String? = nil) throws -> CommandResult {
            try kiln(arguments: ["jobs"] + arguments + ["--tool", tool ?? self.tool, "--data", data])
        }

        /// `jobs show NAME --json`.
        func show(_ name: String, tool: String? = nil) throws -> [String: Any] {
            let result = try jobs(arguments: ["show", name, "--json"], tool: tool)
            guard result.status == 0,
                let json = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
            else { throw TestFailure("show \(name): \(result)") }
            return json
        }

        /// The job's runs, newest first.
        func runs(_ name: String) throws -> [[String: Any]] { try show(name)["runs"] as? [[String: Any]] ?? [] }

        /// `jobs list --json`: the jobs by name.
        func list(tool: String? = nil) throws -> [String: [String: Any]] {
            let result = try jobs(arguments: ["list", "--json"], tool: tool)
            guard result.status == 0,
                let json = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]]
            else { throw TestFailure("list: \(result)") }
            return Dictionary(json.map { ($0["name"] as? String ?? "?", $0) }, uniquingKeysWith: { first, _ in first })
        }

        func names(tool: String? = nil) throws -> Set<String> { Set(try list(tool: tool).keys) }

        func read(_ relativePath: String) -> String? {
            try? String(contentsOfFile: home + "/" + relativePath, encoding: .utf8)
        }

        func write(_ relativePath: String, _ contents: String) throws {
            try writeAsTool(contents, to: relativePath, inHome: home)
        }

        /// The pids a job's command wrote, one a line, to a file in the home.
        func pids(_ relativePath: String) -> [Int32] {
            (read(relativePath) ?? "").split(separator: "\n").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
        }

        func stop() {
            _ = try? jobs("flush")
            _ = server.terminate()
        }
    }

    /// Polls `body` (every `interval`) until it gives a value; fails after `timeout` seconds.
    @discardableResult
    static func poll<T>(
        _ what: @autoclosure () -> String, timeout: TimeInterval = 15, interval: useconds_t = 100_000, _ body: () throws -> T?
    ) throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let value = try body() { return value }
            guard Date() < deadline else { throw TestFailure("timed out after \(timeout) s waiting for \(what())") }
            usleep(interval)
        }
    }

    /// Checks that `body` stays true for `seconds` (to see that something does NOT happen).
    static func holds(for seconds: TimeInterval, _ body: () throws -> Bool) throws -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            guard try body() else { return false }
            usleep(200_000)
        }
        return try body()
    }

    /// The value of `Label:` in `show`'s block (nil when there is no such line).
    /// The value of `Label:` in `show`'s block: Toolforge's grid (`| Label: | value |`) or a
    /// `Label: value` line (nil when there is no such row).
    static func field(_ label: String, in text: String) -> String? {
        for row in tableRows(text) where row.count == 2 && row[0] == label + ":" { return row[1] }
        for line in text.split(separator: "\n") where line.hasPrefix(label + ":") {
            return line.dropFirst(label.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// The cells of a tabulate grid or pretty table's rows (`| a | b |`), trimmed.
    static func tableRows(_ text: String) -> [[String]] {
        text.split(separator: "\n").filter { $0.hasPrefix("|") }.map { line in
            line.dropFirst().dropLast().split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
        }
    }

    static func outcome(_ run: [String: Any]) -> String? { (run["outcome"] as? [String: Any])?["result"] as? String }

    // MARK: 1. One-off jobs

    @Test func aOneOffJobRunsAndReportsItsExitCodeOutputAndHistory() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let hello = try fixture.jobs(
            "run", "hello", "--command", "echo hello-out; echo hello-err >&2; id -un", "--image", "python3.11", "--wait")
        #expect(hello.status == 0, "\(hello)")
        #expect(fixture.read("hello.out") == "hello-out\ntools.\(fixture.tool)\n", "output as the tool's user in ~/hello.out")
        #expect(fixture.read("hello.err") == "hello-err\n")

        let three = try fixture.jobs("run", "three", "--command", "echo about to fail; exit 3", "--image", "python3.11", "--wait")
        #expect(three.status == 3, "\(three)")
        #expect(three.messages.contains("ERROR: job 'three'"), "\(three)")
        #expect(fixture.read("three.out") == "about to fail\n")

        let logs = try fixture.jobs("logs", "hello")
        #expect(logs.status == 0, "\(logs)")
        #expect(logs.standardOutput.contains("hello-out") && logs.standardOutput.contains("hello-err"), "\(logs)")
        let errorsOnly = try fixture.jobs("logs", "hello", "--stream", "err")
        #expect(errorsOnly.standardOutput.contains("hello-err") && !errorsOnly.standardOutput.contains("hello-out"), "\(errorsOnly)")

        let show = try fixture.jobs("show", "hello")
        #expect(show.status == 0, "\(show)")
        let text = show.standardOutput
        for label in [
            "Job name", "Command", "Job type", "Image", "File log", "Output log", "Error log", "Retry", "Resources", "Status",
            "Hints", "Emails",
        ] {
            #expect(Self.field(label, in: text) != nil, "show has no '\(label):' line:\n\(text)")
        }
        #expect(Self.field("Job name", in: text) == "hello")
        #expect(Self.field("Command", in: text) == "echo hello-out; echo hello-err >&2; id -un")
        #expect(Self.field("Job type", in: text) == "normal")
        #expect(Self.field("Image", in: text) == "python3.11")
        #expect(Self.field("File log", in: text) == "yes")
        #expect(Self.field("Output log", in: text) == fixture.home + "/hello.out")
        #expect(Self.field("Error log", in: text) == fixture.home + "/hello.err")
        #expect(Self.field("Retry", in: text) == "no")
        #expect(Self.field("Emails", in: text) == "none")
        #expect(Self.field("Status", in: text) == "Completed")
        #expect(Self.field("Resources", in: text)?.contains("mem:") == true)
        #expect(text.contains("Recent runs:"), "\(text)")
        let history = text.components(separatedBy: "Recent runs:").last ?? ""
        #expect(history.contains("Trigger:") && history.contains("run") && history.contains("succeeded"), "\(text)")
        let showThree = try fixture.jobs("show", "three").standardOutput
        #expect(Self.field("Status", in: showThree) == "Failed", "\(showThree)")
        #expect(showThree.contains("exited with code 3"), "\(showThree)")

        let list = try fixture.jobs("list")
        #expect(list.status == 0, "\(list)")
        // tabulate's `pretty`, as Toolforge's `jobs list` prints it.
        #expect(list.standardOutput.hasPrefix("+-"), "\(list)")
        let rows = Self.tableRows(list.standardOutput)
        #expect(rows.first == ["Job name:", "Job type:", "Status:"], "\(list)")
        #expect(rows.contains(["hello", "normal", "Completed"]) && rows.contains(["three", "normal", "Failed"]), "\(list)")
        let long = try fixture.jobs("list", "--long")
        #expect(long.status == 0, "\(long)")
        #expect(long.standardOutput.contains("Command:") && long.standardOutput.contains("Image:"), "\(long)")
        #expect(long.standardOutput.contains("echo about to fail; exit 3") && long.standardOutput.contains("python3.11"), "\(long)")
        let json = try fixture.list()
        #expect(Set(json.keys) == ["hello", "three"])
        #expect(json["hello"]?["job_type"] as? String == "normal")
        #expect(json["hello"]?["status"] as? String == "Completed")
        #expect(json["three"]?["status"] as? String == "Failed")
        let run = try #require(try fixture.runs("three").first)
        #expect(run["trigger"] as? String == "run")
        #expect(run["phase"] as? String == "finished")
        #expect(Self.outcome(run) == "failed")
    }

    // MARK: 2. Usage errors

    @Test func usageErrorsAreRefusedAndCreateNothing() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let retry = try fixture.jobs("run", "six", "--command", "true", "--image", "bookworm", "--retry", "6")
        #expect(retry.status == 2, "\(retry)")
        #expect(retry.messages.contains("retry"), "\(retry)")
        let waitContinuous = try fixture.jobs("run", "forever", "--command", "sleep 60", "--image", "bookworm", "--continuous", "--wait")
        #expect(waitContinuous.status == 2, "\(waitContinuous)")
        let emptyList = try fixture.jobs("list")
        #expect(emptyList.status == 0 && emptyList.standardOutput.isEmpty, "\(emptyList)")

        let missing = try fixture.jobs("show", "nope")
        #expect(missing.status != 0, "\(missing)")
        #expect(missing.standardOutput.contains("ERROR: Error: Job 'nope' does not exist"), "as Toolforge says it: \(missing)")
        for verb in ["logs", "delete", "restart"] {
            let result = try fixture.jobs(verb, "nope")
            #expect(result.status != 0 && result.messages.contains("ERROR: Error: Job 'nope' does not exist"), "\(verb): \(result)")
        }

        let unknown = try fixture.jobs("run", "cob", "--command", "true", "--image", "cobol")
        #expect(unknown.status != 0, "\(unknown)")
        #expect(unknown.messages.contains("unknown image 'cobol'"), "\(unknown)")
        for valid in ["bookworm", "python3.11", "php8.2", "node18"] {
            #expect(unknown.messages.contains(valid), "the valid images are not listed: \(unknown)")
        }
        let built = try fixture.jobs("run", "built", "--command", "true", "--image", "tool-x/img:latest")
        #expect(built.status != 0, "\(built)")
        #expect(built.messages.contains("unknown image 'tool-x/img:latest'"), "\(built)")
        #expect(built.messages.contains("can run only the images it built"), "\(built)")
        #expect(try fixture.names().isEmpty, "a refused job was created")

        let retired = try fixture.jobs(
            "run", "old", "--command", "python3 -c 'print(6 * 7)'", "--image", "tf-python39", "--wait")
        #expect(retired.status == 0, "\(retired)")
        #expect(retired.messages.contains("WARNING:") && retired.messages.contains("tf-python39"), "\(retired)")
        #expect(retired.messages.contains("retired"), "\(retired)")
        #expect(fixture.read("old.out") == "42\n")
        #expect(try fixture.names() == ["old"])
    }

    // MARK: 3. Retry

    @Test func aFailedRunIsRetriedAndSucceedsOnItsSecondAttempt() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        // Fails the first time, succeeds the second: the count is kept in the home.
        let command = "n=$(cat ~/count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > ~/count; echo attempt $n; [ $n -ge 2 ]"
        let started = Date()
        let result = try fixture.jobs("run", "flaky", "--command", command, "--image", "bookworm", "--retry", "1", "--wait", "60")
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.status == 0, "\(result)")
        #expect(fixture.read("count") == "2\n")
        #expect(fixture.read("flaky.out") == "attempt 1\nattempt 2\n")
        #expect(elapsed >= 9, "the second attempt came \(elapsed) s after the first, not after the retry delay")
        let run = try #require(try fixture.runs("flaky").first)
        #expect(run["attempt"] as? Int == 2, "\(run)")
        #expect(Self.outcome(run) == "succeeded", "\(run)")
        #expect((run["outcome"] as? [String: Any])?["attempts"] as? Int == 2, "\(run)")
        let show = try fixture.jobs("show", "flaky").standardOutput
        #expect(Self.field("Retry", in: show) == "yes: 1 time(s)", "\(show)")
        #expect(Self.field("Status", in: show) == "Completed", "\(show)")
        #expect(Self.field("Hints", in: show)?.contains("after 2 attempts") == true, "\(show)")
    }

    // MARK: 4. Timeout

    @Test func aRunPastItsTimeoutIsKilledWithItsWholeProcessTree() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let command = "echo $$ > ~/shell.pid; sleep 60 & echo $! > ~/child.pid; sleep 60"
        let started = Date()
        let result = try fixture.jobs("run", "slow", "--command", command, "--image", "bookworm", "--timeout", "2", "--wait")
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.status == 124, "\(result)")
        #expect(elapsed < 15, "a 2 s timeout took \(elapsed) s")
        let shell = try #require(fixture.pids("shell.pid").first)
        let child = try #require(fixture.pids("child.pid").first)
        // Both sleeps and the shell are gone (at most a moment after the run is recorded).
        try Self.poll("the job's processes \(shell), \(child) to be gone", timeout: 5) {
            isGone(shell) && isGone(child) ? true : nil
        }
        // No process of the tool is left (zombies, dead but not yet reaped by init, do not count).
        func living() throws -> [Int32] {
            try runCommand("/usr/bin/pgrep", ["-u", "tools.\(fixture.tool)"]).standardOutput.split(separator: "\n")
                .compactMap { Int32($0) }.filter { !isGone($0) }
        }
        let left = try living()
        #expect(left.isEmpty, "processes of the tool still run: \(left)")
        let run = try #require(try fixture.runs("slow").first)
        #expect(Self.outcome(run) == "timed-out", "\(run)")
        #expect(Self.field("Status", in: try fixture.jobs("show", "slow").standardOutput) == "Timed out")
    }

    // MARK: 5. Continuous jobs

    @Test func aContinuousJobIsRestartedWhenKilledAndStoppedWhenDeleted() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let started = try fixture.jobs(
            "run", "daemon", "--command", "echo $$ >> ~/daemon.pids; exec sleep 600", "--image", "bookworm", "--continuous")
        #expect(started.status == 0, "\(started)")
        let first = try Self.poll("the daemon's first pid") { fixture.pids("daemon.pids").first }
        try Self.poll("the daemon to be Running") { try fixture.show("daemon")["status"] as? String == "Running" ? true : nil }
        #expect(!isGone(first))

        kill(first, SIGKILL)
        let second = try Self.poll("a new pid after kill -9", timeout: 15) { fixture.pids("daemon.pids").dropFirst().first }
        #expect(second != first)
        #expect(isGone(first))
        let status = try Self.poll("the daemon to be Running again") {
            let status = try fixture.show("daemon")
            return status["status"] as? String == "Running" ? status : nil
        }
        #expect((status["hints"] as? String)?.contains("Restarted 1 times") == true, "\(status)")
        let show = try fixture.jobs("show", "daemon").standardOutput
        #expect(Self.field("Status", in: show) == "Running", "\(show)")
        #expect(Self.field("Job type", in: show) == "continuous", "\(show)")
        #expect(Self.field("Hints", in: show)?.contains("Restarted") == true, "\(show)")
        let replica = try #require((status["replica_states"] as? [[String: Any]])?.first)
        #expect(replica["restarts"] as? Int == 1, "\(replica)")
        let leader = Int32(try #require(replica["pid"] as? Int))
        // The killed life is in the history.
        let runs = status["runs"] as? [[String: Any]] ?? []
        #expect(runs.count == 2 && runs.allSatisfy { $0["trigger"] as? String == "continuous" }, "\(runs)")
        #expect(runs.last.flatMap(Self.outcome) == "failed", "\(runs)")

        let deleted = try fixture.jobs("delete", "daemon")
        #expect(deleted.status == 0, "\(deleted)")
        try Self.poll("the daemon's processes to be gone", timeout: 10) { isGone(second) && isGone(leader) ? true : nil }
        #expect(try fixture.names().isEmpty)
        #expect(fixture.pids("daemon.pids").count == 2, "it was started again after delete: \(fixture.pids("daemon.pids"))")
    }

    @Test func aContinuousJobWithAPortIsRunningOnceItsPortAccepts() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        // Not listening: it is started but never Running.
        let deaf = try fixture.jobs("run", "deaf", "--command", "exec sleep 600", "--image", "bookworm", "--continuous", "--port", "8081")
        #expect(deaf.status == 0, "\(deaf)")
        let web = try fixture.jobs(
            "run", "web", "--command", #"exec python3 -m http.server "$PORT" --bind 127.0.0.1"#, "--image", "python3.11",
            "--continuous", "--port", "8080")
        #expect(web.status == 0, "\(web)")
        let status = try Self.poll("the web job to be Running") {
            let status = try fixture.show("web")
            return status["status"] as? String == "Running" ? status : nil
        }
        #expect((status["address"] as? String)?.hasSuffix(":8080") == true, "\(status)")
        let replica = try #require((status["replica_states"] as? [[String: Any]])?.first)
        #expect(replica["phase"] as? String == "serving", "\(replica)")
        let port = try #require(replica["port"] as? Int)
        #expect(port > 0)
        // The replica really listens on the $PORT it was given.
        let page = try curl(["http://127.0.0.1:\(port)/"])
        #expect(page.status == 200, "\(page)")
        let show = try fixture.jobs("show", "web").standardOutput
        #expect(Self.field("Port", in: show)?.hasPrefix("8080") == true, "\(show)")
        #expect(try fixture.show("deaf")["status"] as? String == "Starting", "a replica whose port never accepts is Running")
        // Deleting a job whose replica is still starting stops it at once (not at its start timeout).
        let deafPID = try #require((try fixture.show("deaf")["replica_states"] as? [[String: Any]])?.first?["pid"] as? Int)
        let deleteStarted = Date()
        let deleted = try fixture.jobs("delete", "deaf")
        let deleteTook = Date().timeIntervalSince(deleteStarted)
        #expect(deleted.status == 0, "\(deleted)")
        #expect(deleteTook < 10, "deleting a starting continuous job took \(deleteTook) s")
        #expect(isGone(Int32(deafPID)))

        // A replica that dies before its port accepts is seen dead with its exit code (not left
        // Starting until its start timeout), started again at once, then with a backoff.
        let crashing = try fixture.jobs(
            "run", "crashing", "--command", "echo $$ >> ~/crashing.pids; exit 1", "--image", "bookworm", "--continuous", "--port", "8082")
        #expect(crashing.status == 0, "\(crashing)")
        try Self.poll("the crashing job to be started again", timeout: 10, interval: 20_000) {
            fixture.pids("crashing.pids").count >= 2 ? true : nil
        }
        let secondStart = Date()
        let crashed = try fixture.show("crashing")
        #expect(["Restarting", "Starting"].contains(crashed["status"] as? String), "\(crashed)")
        let lastExit = (crashed["replica_states"] as? [[String: Any]])?.first?["last_exit"] as? [String: Any]
        #expect((lastExit?["exited"] as? [String: Any])?["code"] as? Int == 1, "\(crashed)")
        let firstLife = try #require((crashed["runs"] as? [[String: Any]])?.last)
        #expect(Self.outcome(firstLife) == "failed", "\(firstLife)")
        #expect(((firstLife["outcome"] as? [String: Any])?["status"] as? [String: Any])?["exited"] != nil, "\(firstLife)")
        try Self.poll("a third start of the crashing job", timeout: 10, interval: 20_000) {
            fixture.pids("crashing.pids").count >= 3 ? true : nil
        }
        let backoff = Date().timeIntervalSince(secondStart)
        #expect(backoff >= 0.8, "the second death was restarted after \(backoff) s: no backoff")
    }

    // MARK: 6. Schedules, across kill -9, with a clock the test moves

    @Test func aScheduledJobRunsOncePerTickAcrossKillNineAndCatchesUpOnce() throws {
        let directory = try makeTemporaryDirectory(prefix: "kc")
        let clockFile = directory + "/clock"
        let midnight = 1_893_456_000.0  // 2030-01-01T00:00:00Z
        func setClock(_ seconds: Double) throws {
            let temporary = clockFile + ".new"
            try String(Int(seconds)).write(toFile: temporary, atomically: false, encoding: .utf8)
            guard rename(temporary, clockFile) == 0 else { throw TestFailure("cannot move the clock") }
        }
        try setClock(midnight + 10)
        let fixture = try Fixture("s", serverArguments: ["--clock-file", clockFile])
        defer { fixture.stop() }
        let created = try fixture.jobs("run", "tick", "--command", "date +%s >> ~/ticks.txt", "--image", "bookworm", "--schedule", "* * * * *")
        #expect(created.status == 0, "\(created)")
        var status = try fixture.show("tick")
        #expect((status["runs"] as? [Any])?.isEmpty == true, "\(status)")
        #expect(status["next_run"] as? Double == midnight + 60, "\(status)")
        #expect(status["status"] as? String == "Waiting for scheduled time", "\(status)")

        /// Waits until the job has `count` runs, all finished; returns them (newest first).
        func finishedRuns(_ count: Int) throws -> [[String: Any]] {
            // Generous: the whole suite runs beside it on CI, and a run is a few processes.
            try Self.poll("\(count) finished runs", timeout: 60) {
                let runs = try fixture.runs("tick")
                return runs.count == count && runs.allSatisfy({ $0["phase"] as? String == "finished" }) ? runs : nil
            }
        }
        func tickLines() -> Int { (fixture.read("ticks.txt") ?? "").split(separator: "\n").count }

        try setClock(midnight + 65)
        var runs = try finishedRuns(1)
        #expect(runs[0]["trigger"] as? String == "schedule")
        #expect(runs[0]["tick"] as? Double == midnight + 60)
        #expect(runs[0]["missed_ticks"] as? Int == 0)
        #expect(Self.outcome(runs[0]) == "succeeded")
        #expect(tickLines() == 1)

        try setClock(midnight + 125)
        runs = try finishedRuns(2)
        #expect(runs[0]["tick"] as? Double == midnight + 120)
        #expect(tickLines() == 2)
        status = try fixture.show("tick")
        #expect((status["status"] as? String)?.hasPrefix("Last schedule time: 2030-01-01T00:02:00") == true, "\(status)")

        // kill -9 and start again at the same time: the claimed tick does not run again.
        // (KilnServerProcess starts its log afresh at each start, or appends: either way only the
        // new start's lines count.)
        let logBefore = fixture.server.log
        func resumedSinceRestart() -> Bool {
            let log = fixture.server.log
            let new = log.hasPrefix(logBefore) ? String(log.dropFirst(logBefore.count)) : log
            return new.contains("jobs resumed")
        }
        try fixture.server.restart()
        try Self.poll("the restarted server to resume its jobs") { resumedSinceRestart() ? true : nil }
        #expect(try Self.holds(for: 2) { try fixture.runs("tick").count == 2 }, "a claimed tick ran again after kill -9")
        #expect(tickLines() == 2)

        // Down while five ticks pass (00:03 … 00:07): one catch-up run when it is back.
        fixture.server.kill9()
        try setClock(midnight + 450)
        try fixture.server.start()
        runs = try finishedRuns(3)
        #expect(runs[0]["trigger"] as? String == "catch-up", "\(runs[0])")
        #expect(runs[0]["tick"] as? Double == midnight + 420, "\(runs[0])")
        #expect(runs[0]["missed_ticks"] as? Int == 4, "\(runs[0])")
        #expect(try Self.holds(for: 1.5) { try fixture.runs("tick").count == 3 }, "more than one catch-up run")
        #expect(tickLines() == 3)
        let history = try fixture.jobs("show", "tick").standardOutput
        #expect(history.contains("catch-up"), "\(history)")

        // And on with the schedule.
        try setClock(midnight + 485)
        runs = try finishedRuns(4)
        #expect(runs[0]["trigger"] as? String == "schedule", "\(runs[0])")
        #expect(runs[0]["tick"] as? Double == midnight + 480, "\(runs[0])")
        #expect(runs[0]["missed_ticks"] as? Int == 0)
        #expect(tickLines() == 4)
        #expect(Set(runs.compactMap { $0["tick"] as? Double }).count == 4, "a tick ran twice: \(runs)")
    }

    // MARK: 7. jobs.yaml: load, dry run, one job, dump

    static let threeJobs = """
        - name: once
          command: echo once
          image: bookworm
        - name: nightly
          command: echo nightly
          image: bookworm
          schedule: "0 3 * * *"
        - name: daemon
          command: echo $$ >> ~/loaded-daemon.pids; exec sleep 600
          image: bookworm
          continuous: true
        """

    /// One new (fresh), one changed (nightly), one removed (daemon), one unchanged (once).
    static let editedJobs = """
        - name: once
          command: echo once
          image: bookworm
        - name: nightly
          command: echo nightly v2
          image: bookworm
          schedule: "0 3 * * *"
        - name: fresh
          command: echo fresh
          image: python3.11
        """

    @Test func loadCreatesChangesAndDeletesAsTheFileSays() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let directory = try makeTemporaryDirectory(prefix: "ky")
        func file(_ name: String, _ text: String) throws -> String {
            let path = directory + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        func command(_ job: String) throws -> String? { try fixture.list()[job]?["command"] as? String }

        let loaded = try fixture.jobs("load", try file("jobs.yaml", Self.threeJobs))
        #expect(loaded.status == 0, "\(loaded)")
        #expect(loaded.standardOutput.contains("created: once, nightly, daemon"), "\(loaded)")
        #expect(try fixture.names() == ["once", "nightly", "daemon"])
        let list = try fixture.list()
        #expect(list["once"]?["job_type"] as? String == "normal")
        #expect(list["nightly"]?["job_type"] as? String == "schedule")
        #expect(list["daemon"]?["job_type"] as? String == "continuous")
        let daemon = try Self.poll("the loaded daemon to start") { fixture.pids("loaded-daemon.pids").first }
        try Self.poll("the loaded one-off to run") { fixture.read("once.out") == "once\n" ? true : nil }
        let again = try fixture.jobs("load", directory + "/jobs.yaml")
        #expect(again.status == 0 && again.standardOutput.contains("nothing changed"), "\(again)")

        let edited = try file("edited.yaml", Self.editedJobs)
        let dry = try fixture.jobs("load", edited, "--dry-run")
        #expect(dry.status == 0, "\(dry)")
        #expect(dry.standardOutput.contains("would create: fresh"), "\(dry)")
        #expect(dry.standardOutput.contains("would change: nightly"), "\(dry)")
        #expect(dry.standardOutput.contains("would delete: daemon"), "\(dry)")
        #expect(try fixture.names() == ["once", "nightly", "daemon"], "a dry run changed the jobs")
        #expect(try command("nightly") == "echo nightly")
        #expect(!isGone(daemon), "a dry run stopped the daemon")
        #expect(fixture.read("fresh.out") == nil, "a dry run ran a job")

        let applied = try fixture.jobs("load", edited)
        #expect(applied.status == 0, "\(applied)")
        #expect(applied.standardOutput.contains("created: fresh"), "\(applied)")
        #expect(applied.standardOutput.contains("changed: nightly"), "\(applied)")
        #expect(applied.standardOutput.contains("deleted: daemon"), "\(applied)")
        #expect(!applied.standardOutput.contains("once"), "an unchanged job was reported: \(applied)")
        #expect(try fixture.names() == ["once", "nightly", "fresh"])
        #expect(try command("nightly") == "echo nightly v2")
        try Self.poll("the deleted daemon to stop", timeout: 10) { isGone(daemon) ? true : nil }
        try Self.poll("the new one-off to run") { fixture.read("fresh.out") == "fresh\n" ? true : nil }

        // --job: only that job, though the file changes two.
        let twoChanges = Self.editedJobs.replacingOccurrences(of: "echo once", with: "echo once v2")
            .replacingOccurrences(of: "echo nightly v2", with: "echo nightly v3")
        let only = try fixture.jobs("load", try file("two.yaml", twoChanges), "--job", "once")
        #expect(only.status == 0, "\(only)")
        #expect(only.standardOutput.contains("changed: once"), "\(only)")
        #expect(!only.standardOutput.contains("nightly"), "\(only)")
        #expect(try command("once") == "echo once v2")
        #expect(try command("nightly") == "echo nightly v2", "--job once changed another job")
        #expect(try fixture.names() == ["once", "nightly", "fresh"])

        // dump round-trips: loading what it wrote changes nothing.
        let dumped = try fixture.jobs("dump")
        #expect(dumped.status == 0, "\(dumped)")
        #expect(dumped.standardOutput.contains("name: nightly") && dumped.standardOutput.contains("schedule:"), "\(dumped)")
        let dumpFile = directory + "/dumped.yaml"
        #expect(try fixture.jobs("dump", "--to-file", dumpFile).status == 0)
        #expect(try String(contentsOfFile: dumpFile, encoding: .utf8) == dumped.standardOutput)
        let reloaded = try fixture.jobs("load", dumpFile)
        #expect(reloaded.status == 0 && reloaded.standardOutput.contains("nothing changed"), "\(reloaded)\n\(dumped.standardOutput)")
    }

    // MARK: 8. Malformed jobs.yaml

    @Test func aMalformedFileIsRefusedWithItsLineAndFieldAndChangesNothing() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let directory = try makeTemporaryDirectory(prefix: "km")
        let good = "- name: good\n  command: echo good\n  image: bookworm\n  schedule: \"0 4 * * *\"\n"
        try good.write(toFile: directory + "/jobs.yaml", atomically: true, encoding: .utf8)
        #expect(try fixture.jobs("load", directory + "/jobs.yaml").status == 0)
        // Each file also changes 'good', so that a partial load would show.
        let changed = good.replacingOccurrences(of: "echo good", with: "echo changed")
        let cases: [(name: String, text: String, expected: [String])] = [
            ("retry", changed + "- name: many\n  command: echo x\n  image: bookworm\n  retry: 9\n",
             ["bad.yaml line 8", "retry", "9"]),
            ("image", changed + "- name: cob\n  command: echo x\n  image: cobol\n",
             ["bad.yaml line 7", "image", "cobol"]),
            ("schedule", changed + "- name: when\n  command: echo x\n  image: bookworm\n  schedule: every day at noon\n",
             ["bad.yaml line 8", "schedule"]),
            ("duplicate", changed + "- name: good\n  command: echo again\n  image: bookworm\n",
             ["bad.yaml line 5", "name", "'good'", "line 1"]),
            ("syntax", changed + "- name: broken\n  command: echo x\n  image: [bookworm\n",
             ["bad.yaml", "line"]),
            ("wait", changed + "- name: waiter\n  command: sleep 600\n  image: bookworm\n  continuous: true\n  wait: true\n",
             ["bad.yaml line 9", "wait"]),
        ]
        for (label, text, expected) in cases {
            try text.write(toFile: directory + "/bad.yaml", atomically: true, encoding: .utf8)
            let result = try fixture.jobs("load", directory + "/bad.yaml")
            #expect(result.status != 0, "\(label): \(result)")
            for fragment in expected {
                #expect(result.messages.contains(fragment), "\(label): no '\(fragment)' in: \(result.messages)")
            }
            #expect(try fixture.names() == ["good"], "\(label): the jobs changed")
            #expect(try fixture.list()["good"]?["command"] as? String == "echo good", "\(label): 'good' changed")
        }
        // The syntax error names the file and the line where YAML found it (the unclosed '[' of
        // line 7 is found at the end, line 8).
        try (changed + "- name: broken\n  command: echo x\n  image: [bookworm\n").write(
            toFile: directory + "/bad.yaml", atomically: true, encoding: .utf8)
        let syntax = try fixture.jobs("load", directory + "/bad.yaml")
        #expect(syntax.messages.contains("bad.yaml"), "\(syntax.messages)")
        #expect(
            ["line 7", "line 8"].contains { syntax.messages.contains($0) }, "the syntax error's line: \(syntax.messages)")

        // An unknown key: refused with --strict, a warning with its line otherwise.
        let unknownKey = changed + "- name: hungry\n  command: echo x\n  image: bookworm\n  memory: 1Gi\n"
        try unknownKey.write(toFile: directory + "/bad.yaml", atomically: true, encoding: .utf8)
        let strict = try fixture.jobs("load", directory + "/bad.yaml", "--strict")
        #expect(strict.status != 0, "\(strict)")
        #expect(strict.messages.contains("bad.yaml line 8") && strict.messages.contains("memory"), "\(strict)")
        #expect(try fixture.names() == ["good"])
        let lenient = try fixture.jobs("load", directory + "/bad.yaml")
        #expect(lenient.status == 0, "\(lenient)")
        #expect(lenient.messages.contains("WARNING:") && lenient.messages.contains("bad.yaml line 8"), "\(lenient)")
        #expect(lenient.messages.contains("memory") && lenient.messages.contains("mem"), "\(lenient)")
        #expect(try fixture.names() == ["good", "hungry"])
        #expect(try fixture.list()["good"]?["command"] as? String == "echo changed")
    }

    // MARK: 9. Isolation

    @Test func aToolCannotSeeOrTouchAnotherToolsJobs() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let other = uniqueToolName("o")
        let created = try kiln("tools", "create", other, "--data", fixture.data)
        #expect(created.status == 0, "\(created)")
        defer { _ = try? fixture.jobs(arguments: ["flush"], tool: other) }
        let keep = try fixture.jobs(
            arguments: ["run", "keep", "--command", "echo $$ >> ~/keep.pids; exec sleep 600", "--image", "bookworm", "--continuous"],
            tool: other)
        #expect(keep.status == 0, "\(keep)")
        let done = try fixture.jobs(arguments: ["run", "done", "--command", "echo secret", "--image", "bookworm", "--wait"], tool: other)
        #expect(done.status == 0, "\(done)")
        let otherHome = fixture.data + "/tools/" + other
        let pid = try Self.poll("the other tool's job to start") {
            (try? String(contentsOfFile: otherHome + "/keep.pids", encoding: .utf8)).flatMap { Int32($0.split(separator: "\n").first ?? "") }
        }
        try Self.poll("the other tool's job to be Running") {
            try fixture.show("keep", tool: other)["status"] as? String == "Running" ? true : nil
        }

        let token = try String(contentsOfFile: fixture.home + "/.kiln-token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!token.isEmpty)
        let asTool = ["KILN_URL": fixture.server.apiURL, "KILN_TOKEN": token]
        // Naming the other tool: refused.
        for arguments in [
            ["list"], ["show", "keep"], ["delete", "keep"], ["logs", "done"], ["restart", "keep"], ["flush"],
            ["run", "intruder", "--command", "true", "--image", "bookworm"],
        ] {
            let result = try kiln(arguments: ["jobs"] + arguments + ["--tool", other], environment: asTool)
            #expect(result.status != 0, "\(arguments): \(result)")
            #expect(result.messages.contains("may not act on tool '\(other)'"), "\(arguments): \(result)")
            #expect(!result.standardOutput.contains("secret") && !result.standardOutput.contains("keep"), "\(arguments): \(result)")
        }
        // Its own jobs: there are none of that name.
        for arguments in [["show", "keep"], ["delete", "keep"], ["logs", "done"], ["restart", "keep"]] {
            let result = try kiln(arguments: ["jobs"] + arguments, environment: asTool)
            #expect(result.status != 0, "\(arguments): \(result)")
            #expect(result.messages.contains("does not exist"), "\(arguments): \(result)")
        }
        let ownList = try kiln(arguments: ["jobs", "list", "--json"], environment: asTool)
        #expect(ownList.status == 0, "\(ownList)")
        let ownJobs = try JSONSerialization.jsonObject(with: Data(ownList.standardOutput.utf8)) as? [Any]
        #expect(ownJobs?.isEmpty == true, "\(ownList)")
        let ownFlush = try kiln(arguments: ["jobs", "flush"], environment: asTool)
        #expect(ownFlush.status == 0, "\(ownFlush)")

        // The other tool's jobs are as they were: same process, never restarted.
        #expect(!isGone(pid), "the other tool's job was stopped")
        #expect(try fixture.names(tool: other) == ["keep", "done"])
        let status = try fixture.show("keep", tool: other)
        #expect(status["status"] as? String == "Running")
        let replica = (status["replica_states"] as? [[String: Any]])?.first
        #expect(replica?["restarts"] as? Int == 0, "\(String(describing: replica))")
        #expect((try? String(contentsOfFile: otherHome + "/keep.pids", encoding: .utf8))?.split(separator: "\n").count == 1)
        #expect((try? fixture.show("done", tool: other)["runs"] as? [Any])?.count == 1, "the other tool's one-off ran again")
    }

    // MARK: 10. Toolforge's command words

    @Test func toolforgeJobsWorksAsKilnJobs() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        #expect(try fixture.jobs("run", "hello", "--command", "echo hi", "--image", "bookworm", "--wait").status == 0)
        let direct = try fixture.jobs("list")
        #expect(direct.status == 0 && direct.standardOutput.contains("hello"), "\(direct)")
        let words = try kiln("toolforge", "jobs", "list", "--tool", fixture.tool, "--data", fixture.data)
        #expect(words.status == 0, "\(words)")
        #expect(words.standardOutput == direct.standardOutput, "\(words)")

        let directory = try makeTemporaryDirectory(prefix: "kt")
        let link = directory + "/toolforge"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: KilnBinary.path)
        let linked = try runCommand(link, ["jobs", "list", "--tool", fixture.tool, "--data", fixture.data])
        #expect(linked.status == 0, "\(linked)")
        #expect(linked.standardOutput == direct.standardOutput, "\(linked)")
        let missing = try runCommand(link, ["jobs", "show", "nope", "--tool", fixture.tool, "--data", fixture.data])
        #expect(missing.status != 0 && missing.messages.contains("ERROR: Error: Job 'nope' does not exist"), "\(missing)")
        let failing = try runCommand(
            link, ["jobs", "run", "three", "--command", "exit 3", "--image", "bookworm", "--wait", "--tool", fixture.tool, "--data", fixture.data])
        #expect(failing.status == 3, "\(failing)")
    }
}
