import Foundation
import KilnTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The wall between a tool and the platform, tried as a hostile tool would against the real
/// `kiln serve` running as root with a Unix user per tool: every attack is refused or contained,
/// what it aimed at is left as it was (owner and content), and the server goes on answering.
@Suite(.serialized, .enabled(if: geteuid() == 0, "the wall is between Unix users: needs root"))
struct TenantIsolationTests {
    final class Fixture: Sendable {
        let server: KilnServerProcess
        let tool: String
        let other: String
        /// A file of root's outside every home, that attacks aim at.
        let victim: String

        var data: String { server.dataDirectory }
        func home(_ tool: String) -> String { data + "/tools/" + tool }
        var home: String { home(tool) }

        init(serverArguments: [String] = ["--allow-http"]) throws {
            server = try KilnServerProcess(extraArguments: serverArguments)
            tool = uniqueToolName("ti")
            other = uniqueToolName("tj")
            for name in [tool, other] {
                let created = try kiln("tools", "create", name, "--data", server.dataDirectory)
                guard created.status == 0 else { throw TestFailure("tools create: \(created)") }
            }
            victim = try makeTemporaryDirectory(prefix: "kv") + "/victim"
            try "root's own\n".write(toFile: victim, atomically: true, encoding: .utf8)
        }

        /// A shell command run as the tool's own Unix user (what its code can do).
        @discardableResult
        func asTool(_ command: String, tool: String? = nil) throws -> CommandResult {
            try runCommand("/bin/sh", ["-c", command], asUser: "tools." + (tool ?? self.tool))
        }

        /// `kiln ARGUMENTS` run by the tool itself (authenticated by its Unix user on the socket).
        func kilnAsTool(_ arguments: String..., tool: String? = nil) throws -> CommandResult {
            try kiln(arguments: arguments + ["--data", data], asUser: "tools." + (tool ?? self.tool))
        }

        var victimUntouched: Bool {
            var info = stat()
            return (try? String(contentsOfFile: victim, encoding: .utf8)) == "root's own\n" && stat(victim, &info) == 0 && info.st_uid == 0
        }

        /// The API and the proxy still answer.
        var serverAnswers: Bool {
            (try? kiln("whoami", "--data", data).status) == 0 && (try? curl([server.httpURL + "/"]).status).map { $0 > 0 } == true
        }

        func stop() {
            _ = try? kiln("jobs", "flush", "--tool", tool, "--data", data)
            _ = try? kiln("webservice", "stop", "--tool", tool, "--data", data)
            _ = server.terminate()
        }
    }

    // MARK: Paths a tool names

    @Test func aLogPathOutsideTheHomeIsRefusedNamingItsField() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        // Targets are the test's own files: a regression must not write into the host's /etc.
        for path in [fixture.victim, "../" + fixture.other + "/x.out", fixture.home(fixture.other) + "/x.out", (fixture.victim as NSString).deletingLastPathComponent + "/new.out"] {
            let run = try fixture.kilnAsTool(
                "jobs", "run", "escape", "--command", "echo pwned", "--image", "bookworm", "--filelog-stdout", path, "--wait")
            #expect(run.status != 0, "\(path): \(run)")
            #expect(run.messages.contains("filelog-stdout") && run.messages.contains("outside the tool's home")
                || run.messages.contains("leaves the tool's home"), "\(run)")
        }
        #expect(fixture.victimUntouched)
        #expect(!FileManager.default.fileExists(atPath: fixture.home(fixture.other) + "/x.out"))
        #expect(fixture.serverAnswers)
    }

    // MARK: Files in the home

    @Test func aLinkPlantedAsAJobsLogIsNeitherWrittenNorChowned() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let elsewhere = (fixture.victim as NSString).deletingLastPathComponent
        try fixture.asTool("ln -s \(fixture.victim) ~/planted.out && mkdir -p ~/logs && ln -s \(elsewhere) ~/linked")
        let run = try fixture.kilnAsTool("jobs", "run", "planted", "--command", "echo pwned", "--image", "bookworm", "--wait")
        #expect(run.status != 0, "\(run)")
        // A folder on the way that is a link is not entered either.
        let nested = try fixture.kilnAsTool(
            "jobs", "run", "nested", "--command", "echo pwned", "--image", "bookworm", "--filelog-stdout", "linked/kiln-pwned", "--wait")
        #expect(nested.status != 0, "\(nested)")
        #expect(!FileManager.default.fileExists(atPath: elsewhere + "/kiln-pwned"))
        let show = try fixture.kilnAsTool("jobs", "show", "planted")
        #expect(show.standardOutput.contains("symbolic link"), "\(show)")
        #expect(fixture.victimUntouched)
        #expect(fixture.serverAnswers)
    }

    @Test func logsReadThroughALinkToAnotherToolsTokenOrTheAdminTokenAreRefused() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let token = try String(contentsOfFile: fixture.home(fixture.other) + "/.kiln-token", encoding: .utf8)
        #expect(try fixture.kilnAsTool("jobs", "run", "reader", "--command", "true", "--image", "bookworm", "--wait").status == 0)
        for target in [fixture.home(fixture.other) + "/.kiln-token", fixture.data + "/admin.token", fixture.data + "/kiln.sqlite"] {
            try fixture.asTool("rm -f ~/reader.out; ln -s \(target) ~/reader.out; mkdir -p ~/logs; rm -f ~/logs/web.err; ln -s \(target) ~/logs/web.err")
            let jobLogs = try fixture.kilnAsTool("jobs", "logs", "reader")
            #expect(jobLogs.status != 0 && !jobLogs.standardOutput.contains(token.trimmingCharacters(in: .whitespacesAndNewlines)), "\(jobLogs)")
            #expect(!jobLogs.standardOutput.contains(fixture.server.adminToken), "\(jobLogs)")
            let webLogs = try fixture.kilnAsTool("webservice", "logs")
            #expect(!webLogs.standardOutput.contains(fixture.server.adminToken), "\(webLogs)")
        }
        #expect(fixture.serverAnswers)
    }

    @Test func aFIFOOrADeviceAsALogNeitherHangsNorFillsTheServer() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        #expect(try fixture.kilnAsTool("jobs", "run", "piped", "--command", "true", "--image", "bookworm", "--wait").status == 0)
        try fixture.asTool("rm -f ~/piped.out ~/piped.err; mkfifo ~/piped.out; ln -s /dev/zero ~/piped.err")
        let started = Date()
        let out = try fixture.kilnAsTool("jobs", "logs", "piped")
        #expect(out.status != 0, "\(out)")
        let err = try fixture.kilnAsTool("jobs", "logs", "piped", "--stream", "err")
        #expect(err.status != 0 || err.standardOutput.isEmpty, "\(err)")
        // A run whose log is a FIFO does not start (nothing would drain it); the server is not held.
        let run = try fixture.kilnAsTool("jobs", "run", "piped", "--command", "echo x", "--image", "bookworm", "--wait")
        #expect(run.status != 0, "\(run)")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(fixture.serverAnswers)
    }

    @Test func theManifestAndGeneratedFilesReplaceAPlantedLinkInsteadOfWritingThroughIt() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        try fixture.asTool("mkdir -p ~/public_html && echo hi > ~/public_html/index.html && ln -s \(fixture.victim) ~/service.manifest")
        let started = try fixture.kilnAsTool("webservice", "static", "start")
        #expect(started.status == 0, "\(started)\n\(fixture.server.log)")
        var info = stat()
        #expect(lstat(fixture.home + "/service.manifest", &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG)
        #expect(fixture.victimUntouched)
        // A service.template that is a link to a file of root's is refused, not read.
        try fixture.asTool("ln -s \(fixture.data)/admin.token ~/service.template")
        let restarted = try fixture.kilnAsTool("webservice", "restart")
        #expect(!restarted.standardError.contains(fixture.server.adminToken) && !restarted.standardOutput.contains(fixture.server.adminToken))
        #expect(fixture.serverAnswers)
    }

    // MARK: The platform's own files

    @Test func aToolCanReadNeitherTheStoreNorTheTokensNorListTheDataDirectory() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        var info = stat()
        #expect(stat(fixture.data, &info) == 0 && info.st_mode & 0o777 == 0o711)
        for file in ["kiln.sqlite", "admin.token"] {
            #expect(stat(fixture.data + "/" + file, &info) == 0 && info.st_mode & 0o077 == 0, "\(file)")
            #expect(try fixture.asTool("cat \(fixture.data)/\(file) > /dev/null").status != 0, "\(file)")
        }
        #expect(try fixture.asTool("ls \(fixture.data)").status != 0)
        #expect(try fixture.asTool("cat \(fixture.home(fixture.other))/.kiln-token").status != 0)
        // Its own home it reaches (every folder above it lets others pass).
        #expect(try fixture.asTool("cat ~/.kiln-token > /dev/null && touch ~/mine").status == 0)
    }

    // MARK: Identity

    @Test func singleUserModeIsRefusedAsRoot() throws {
        let result = try kiln("serve", "--data", try makeTemporaryDirectory(prefix: "ksu") + "/d", "--unix-users", "off")
        #expect(result.status != 0)
        #expect(result.standardError.contains("--unix-users off would run tools' code as root"), "\(result)")
    }

    @Test func aDataDirectoryToolsCannotReachIsRefusedAtStart() throws {
        let closed = try makeTemporaryDirectory(prefix: "kclosed")
        #expect(chmod(closed, 0o700) == 0)
        let result = try kiln("serve", "--data", closed + "/d", "--api", "127.0.0.1:0", "--http", "127.0.0.1:0", "--https", "off")
        #expect(result.status != 0)
        #expect(result.standardError.contains("tools' users cannot reach their homes") && result.standardError.contains("chmod o+x \(closed)"), "\(result)")
    }

    // MARK: Processes

    @Test func aForkBombStaysInsideItsToolAndTheServerAnswers() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let user = "tools." + fixture.tool
        let peak = PeakCount()
        let watcher = Thread {
            while !peak.done {
                let count = (try? runCommand("/usr/bin/pgrep", ["-c", "-u", user]).standardOutput) ?? ""
                peak.see(Int(count.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
                usleep(200_000)
            }
        }
        watcher.start()
        let bomb = try fixture.kilnAsTool(
            "jobs", "run", "bomb", "--command", "b() { b | b & }; b; sleep 30", "--image", "bookworm", "--timeout", "6", "--wait")
        #expect(bomb.status == 124, "\(bomb)")
        #expect(fixture.serverAnswers)
        peak.finish()
        print("fork bomb: at most \(peak.value) processes of the tool's user seen at once (the job's limit is 512; the tool's own `kiln` client is one more)")
        #expect(peak.value <= 512 + 1)
        // The timeout killed the whole tree.
        try JobsTests.poll("the bomb's processes to go", timeout: 20) {
            (try? runCommand("/usr/bin/pgrep", ["-u", user]))?.status == 1 ? true : nil
        }
    }

    @Test func deletingAToolKillsWhatEscapedWithSetsidAndRemovesItsUser() throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let run = try fixture.kilnAsTool(
            "jobs", "run", "escapee", "--command", "setsid sleep 1000 < /dev/null > /dev/null 2>&1 & sleep 1000", "--image", "bookworm",
            "--continuous")
        #expect(run.status == 0, "\(run)")
        let user = "tools." + fixture.tool
        try JobsTests.poll("the escapee", timeout: 20) {
            (try? runCommand("/usr/bin/pgrep", ["-u", user, "-f", "setsid|sleep 1000"]))?.status == 0 ? true : nil
        }
        let uid = try #require(getpwnam(user)).pointee.pw_uid
        let deleted = try kiln("tools", "delete", fixture.tool, "--data", fixture.data)
        #expect(deleted.status == 0, "\(deleted)\n\(fixture.server.log.suffix(3000))")
        #expect(getpwnam(user) == nil, "the user is left behind")
        // Nothing of the uid runs (a killed process may linger as a zombie until its parent, here
        // the machine's init, collects it: it runs nothing).
        let left = try runCommand("/bin/ps", ["-u", String(uid), "-o", "stat=,args="]).standardOutput
        #expect(left.split(separator: "\n").allSatisfy { $0.trimmingCharacters(in: .whitespaces).hasPrefix("Z") }, "still running as uid \(uid): \(left)")
        #expect(fixture.serverAnswers)
    }

    final class PeakCount: @unchecked Sendable {
        private let lock = NSLock()
        private var highest = 0
        private var finished = false
        var value: Int { lock.withLock { highest } }
        var done: Bool { lock.withLock { finished } }
        func see(_ count: Int) { lock.withLock { highest = max(highest, count) } }
        func finish() { lock.withLock { finished = true } }
    }
}
