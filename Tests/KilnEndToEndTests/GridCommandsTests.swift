import Foundation
import KilnTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The grid era's commands through the real binary against a real `kiln serve`: `jsub` (as
/// `kiln jsub` and as the binary linked as `jsub`), `jstart`, `jstop`, and `kiln jobs
/// import-crontab` then `jobs load`. Commands run off the cooperative pool; waits sleep
/// asynchronously.
@Suite(.serialized) struct GridCommandsTests {
    typealias Fixture = JobsTests.Fixture

    /// The binary linked under the grid's names, as an operator installs it.
    static let links: String = {
        let folder = (try? makeTemporaryDirectory(prefix: "kgrid")) ?? NSTemporaryDirectory()
        for name in ["jsub", "jstart", "jstop"] {
            try? FileManager.default.createSymbolicLink(atPath: folder + "/" + name, withDestinationPath: KilnBinary.path)
        }
        // Others (a tool's user) pass through to run them.
        chmod(folder, 0o755)
        return folder
    }()

    /// `NAME ARGUMENTS --data DATA [--tool TOOL]` with the binary linked as NAME (jsub, jstart,
    /// jstop), as the admin or as the tool's own user.
    static func grid(_ fixture: Fixture, _ name: String, _ arguments: [String], asTool: Bool = false) async throws -> CommandResult {
        let connection = ["--data", fixture.data] + (asTool ? [] : ["--tool", fixture.tool])
        let user = asTool ? "tools." + fixture.tool : nil
        return try await onOwnThread { try runCommand(links + "/" + name, connection + arguments, asUser: user) }
    }

    static func jobs(_ fixture: Fixture, _ arguments: String...) async throws -> CommandResult {
        try await onOwnThread { try fixture.jobs(arguments: arguments) }
    }

    /// `jobs list --json`: the jobs by name.
    static func list(_ fixture: Fixture) async throws -> [String: [String: Any]] {
        let result = try await jobs(fixture, "list", "--json")
        guard result.status == 0, let json = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]]
        else { throw TestFailure("list: \(result)") }
        return Dictionary(json.map { ($0["name"] as? String ?? "?", $0) }, uniquingKeysWith: { first, _ in first })
    }

    static func status(_ fixture: Fixture, _ job: String) async throws -> String? {
        try await list(fixture)[job]?["status"] as? String
    }


    // MARK: jsub

    @Test func jsubRunsAOneOffJobThatKilnJobsSees() async throws {
        let fixture = try await JobsToolforgeTests.fixture("gs")
        // Through `kiln jsub`, quiet: nothing printed, the output appended to ~/x.out.
        let quiet = try await onOwnThread {
            try kiln(arguments: ["jsub", "--data", fixture.data, "--tool", fixture.tool, "-once", "-quiet", "-N", "x", "-mem", "256m", "echo", "hi"])
        }
        #expect(quiet.status == 0 && quiet.standardOutput.isEmpty && quiet.standardError.isEmpty, "\(quiet)")
        try await JobsToolforgeTests.eventually("~/x.out") { fixture.read("x.out") == "hi\n" ? true : nil }
        let show = try await JobsToolforgeTests.show(fixture, "x")
        #expect(show["job_type"] as? String == "normal" && show["image"] as? String == "bookworm", "\(show)")
        #expect(show["memory"] as? String == "256Mi" && show["command"] as? String == "echo hi", "\(show)")
        try await JobsToolforgeTests.eventually("x to complete") { try await Self.status(fixture, "x") == "Completed" ? true : nil }

        // Not quiet: qsub's line, with the run's number; a program's own words stay its own.
        let said = try await Self.grid(fixture, "jsub", ["-N", "y", "-j", "y", "sh", "-c", "echo out; echo err >&2; exit 0", "-mem"])
        #expect(said.status == 0, "\(said)")
        let line = said.standardOutput.trimmingCharacters(in: .newlines)
        #expect(line.hasPrefix("Your job ") && line.hasSuffix(#" ("y") has been submitted"#), "\(said)")
        try await JobsToolforgeTests.eventually("~/y.out with both streams") {
            let text = fixture.read("y.out") ?? ""
            return text.contains("out") && text.contains("err") ? true : nil
        }
        #expect(fixture.read("y.err") == nil || fixture.read("y.err") == "")

        // Again, once it ended: the same job runs again, one history.
        let again = try await Self.grid(fixture, "jsub", ["-quiet", "-N", "x", "-mem", "256m", "echo", "hi"])
        #expect(again.status == 0, "\(again)")
        try await JobsToolforgeTests.eventually("~/x.out appended") { fixture.read("x.out") == "hi\nhi\n" ? true : nil }
        #expect(try await Self.list(fixture).keys.sorted() == ["x", "y"])

        // -sync y: waits, and exits with the job's code.
        let synced = try await Self.grid(fixture, "jsub", ["-sync", "y", "-N", "s", "sh", "-c", "exit 3"])
        #expect(synced.status == 3, "\(synced)")
        #expect(synced.standardOutput.contains("exited with exit code 3"), "\(synced)")

        // Usage errors: exit 1, saying what.
        let refusals: [([String], String)] = [
            (["-m", "bea", "x"], "unknown option -m"), (["-mem", "99999999999999999999g", "x"], "-mem"),
            (["-N", "My_Bot", "x"], "such as -N my-bot"), ([], "usage: jsub"), (["-quiet"], "no program given"),
        ]
        for (arguments, message) in refusals {
            let result = try await Self.grid(fixture, "jsub", arguments)
            #expect(result.status == 1 && result.standardError.contains(message), "\(arguments): \(result)")
        }
        await JobsToolforgeTests.stop(fixture)
    }

    @Test func aSecondOnceWhileTheFirstRunsIsRefused() async throws {
        let fixture = try await JobsToolforgeTests.fixture("go")
        let first = try await Self.grid(fixture, "jsub", ["-once", "-quiet", "-N", "slow", "sleep", "60"])
        #expect(first.status == 0, "\(first)")
        try await JobsToolforgeTests.eventually("slow to run") { try await Self.status(fixture, "slow") == "Running" ? true : nil }

        // The admin reads the refusal on standard error.
        let second = try await Self.grid(fixture, "jsub", ["-once", "-quiet", "-N", "slow", "sleep", "60"])
        #expect(second.status == 1 && second.standardError.contains("there is a job named 'slow' already active"), "\(second)")
        // The tool itself (a crontab's call): in the job's error file, as jsub put it, so cron mails nothing.
        let asTool = try await Self.grid(fixture, "jsub", ["-once", "-quiet", "-N", "slow", "sleep", "60"], asTool: true)
        #expect(asTool.status == 1 && asTool.standardError.isEmpty, "\(asTool)")
        #expect(fixture.read("slow.err")?.contains("] there is a job named 'slow' already active") == true, "\(fixture.read("slow.err") ?? "")")
        let loud = try await Self.grid(fixture, "jsub", ["-once", "-stderr", "-quiet", "-N", "slow", "sleep", "60"], asTool: true)
        #expect(loud.status == 1 && loud.standardError.contains("already active"), "\(loud)")

        // Without -once the grid ran a second beside it: here `slow-2`.
        let beside = try await Self.grid(fixture, "jsub", ["-N", "slow", "sleep", "60"], asTool: true)
        #expect(beside.status == 0 && beside.standardOutput.contains(#"("slow-2") has been submitted"#), "\(beside)")
        #expect(try await Self.list(fixture).keys.sorted() == ["slow", "slow-2"])

        let stopped = try await Self.grid(fixture, "jstop", ["slow"])
        #expect(stopped.status == 0 && stopped.standardOutput.contains("has registered the job"), "\(stopped)")
        let gone = try await Self.grid(fixture, "jstop", ["slow"])
        #expect(gone.status == 1 && gone.standardError.contains("No job 'slow' is currently queued or running"), "\(gone)")
        #expect(try await Self.list(fixture).keys.sorted() == ["slow-2"])
        await JobsToolforgeTests.stop(fixture)
    }

    // MARK: jstart, jstop

    @Test func jstartIsAContinuousJobThatJstopStops() async throws {
        let fixture = try await JobsToolforgeTests.fixture("gc")
        try fixture.write("w.sh", "echo $$ >> w.pids\nexec sleep 600\n")
        let started = try await Self.grid(fixture, "jstart", ["-N", "w", "-mem", "300m", "sh", "w.sh"])
        #expect(started.status == 0, "\(started)")
        #expect(started.standardOutput.range(of: #"^Your job [0-9]+ \("w"\) has been submitted\n$"#, options: .regularExpression) != nil, "\(started)")
        let job = try #require(try await Self.list(fixture)["w"])
        #expect(job["job_type"] as? String == "continuous" && job["memory"] as? String == "300Mi", "\(job)")
        try await JobsToolforgeTests.eventually("w to be Running") { try await Self.status(fixture, "w") == "Running" ? true : nil }
        let pid = try await JobsToolforgeTests.eventually("w's pid") { fixture.pids("w.pids").first }
        let listed = try await Self.jobs(fixture, "list")
        #expect(JobsTests.tableRows(listed.standardOutput).contains(["w", "continuous", "Running"]), "\(listed)")

        // jstart is jsub -once: a second one is refused while it runs.
        let twice = try await Self.grid(fixture, "jstart", ["-N", "w", "-mem", "300m", "sh", "w.sh"])
        #expect(twice.status == 1 && twice.standardError.contains("already active"), "\(twice)")

        let stop = try await Self.grid(fixture, "jstop", ["w"])
        #expect(stop.status == 0 && stop.standardOutput.contains("tools.\(fixture.tool) has registered the job"), "\(stop)")
        #expect(try await Self.list(fixture)["w"] == nil)
        try await JobsToolforgeTests.eventually("w's process to end") { isGone(pid) ? true : nil }
        await JobsToolforgeTests.stop(fixture)
    }

    // MARK: import-crontab

    static let crontab = """
        MAILTO=maintainer@example.org
        # the bot's jobs
        */10 * * * * jsub -N updater -once -quiet -mem 1g -o ~/logs/updater.out -j y python3 bot.py --update
        @daily jsub -quiet -N cleanup ./cleanup.sh >/dev/null 2>&1
        */5 * * * * jstart -N irc -mem 256m sh irc.sh
        0 * * * * ./not-a-grid-job.sh
        @reboot jsub -N boot ./boot.sh
        """

    @Test func importCrontabThenLoadGivesTheScheduledJobs() async throws {
        let fixture = try await JobsToolforgeTests.fixture("gi")
        try fixture.write("irc.sh", "exec sleep 600\n")
        let folder = try makeTemporaryDirectory(prefix: "kcron")
        try Self.crontab.write(toFile: folder + "/crontab", atomically: true, encoding: .utf8)
        let converted = try await onOwnThread {
            try kiln(arguments: ["jobs", "import-crontab", folder + "/crontab", "--to-file", folder + "/jobs.yaml"])
        }
        #expect(converted.status == 0, "\(converted)")
        let warnings = converted.standardError.split(separator: "\n").map(String.init)
        #expect(warnings.count == 3 && warnings.allSatisfy { $0.hasPrefix("WARNING: crontab line ") }, "\(converted)")
        #expect(warnings.contains { $0.hasPrefix("WARNING: crontab line 6: not converted:") }, "\(converted)")
        #expect(warnings.contains { $0.hasPrefix("WARNING: crontab line 7: not converted: @reboot") }, "\(converted)")
        // To standard output too, the same text.
        let printed = try await onOwnThread { try kiln(arguments: ["jobs", "import-crontab", folder + "/crontab"]) }
        #expect(printed.standardOutput == (try String(contentsOfFile: folder + "/jobs.yaml", encoding: .utf8)))

        let loaded = try await Self.jobs(fixture, "load", folder + "/jobs.yaml")
        #expect(loaded.status == 0 && loaded.standardOutput.contains("created: updater, cleanup, irc"), "\(loaded)")
        let jobs = try await Self.list(fixture)
        #expect(jobs["updater"]?["job_type"] as? String == "schedule" && jobs["updater"]?["schedule"] as? String == "*/10 * * * *")
        #expect(jobs["updater"]?["emails"] as? String == "onfailure" && jobs["updater"]?["memory"] as? String == "1Gi")
        #expect(jobs["updater"]?["output_log"] as? String == fixture.home + "/logs/updater.out")
        #expect(jobs["updater"]?["error_log"] as? String == fixture.home + "/logs/updater.out")
        #expect(jobs["cleanup"]?["schedule"] as? String == "@daily")
        #expect(jobs["irc"]?["job_type"] as? String == "continuous", "\(jobs)")
        try await JobsToolforgeTests.eventually("irc to be Running") { try await Self.status(fixture, "irc") == "Running" ? true : nil }
        // The file loads again as it is: nothing changes.
        let again = try await Self.jobs(fixture, "load", folder + "/jobs.yaml")
        #expect(again.status == 0 && again.standardOutput.contains("nothing changed"), "\(again)")
        await JobsToolforgeTests.stop(fixture)
    }
}
