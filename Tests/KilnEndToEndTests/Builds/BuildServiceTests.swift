import Foundation
import KilnTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `kiln build` through the real binary against a real `kiln serve`: small repositories made
/// with git in the tool's home are built as the tool (pip from PyPI, npm) into sealed images,
/// which a webservice (`buildservice`) and jobs (`--image tool-TOOL/NAME:latest`) run.
@Suite(.serialized) struct BuildServiceTests {
    final class Fixture: Sendable {
        let server: KilnServerProcess
        let tool: String
        var home: String { server.dataDirectory + "/tools/" + tool }
        var data: String { server.dataDirectory }
        /// The tool's Unix user when the server gives tools their own (as root).
        var user: String? { geteuid() == 0 ? "tools." + tool : nil }

        init(_ prefix: String = "b", serverArguments: [String] = [], server: KilnServerProcess? = nil) throws {
            self.server = try server ?? KilnServerProcess(extraArguments: ["--allow-http"] + serverArguments)
            tool = uniqueToolName(prefix)
            let created = try kiln("tools", "create", tool, "--data", self.server.dataDirectory)
            guard created.status == 0 else { throw TestFailure("tools create: \(created)") }
        }

        /// `kiln COMMAND ARGUMENTS --tool TOOL --data DATA`, as the admin.
        func run(_ command: String, _ arguments: [String], timeout: Duration = .seconds(60)) throws -> CommandResult {
            try runCommand(KilnBinary.path, [command] + arguments + ["--tool", tool, "--data", data], timeout: timeout)
        }

        func build(_ arguments: String...) throws -> CommandResult { try run("build", arguments, timeout: .seconds(600)) }
        func jobs(_ arguments: String...) throws -> CommandResult { try run("jobs", arguments) }
        func webservice(_ arguments: String...) throws -> CommandResult { try run("webservice", arguments, timeout: .seconds(90)) }

        func json(_ result: CommandResult) throws -> [String: Any] {
            guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
            else { throw TestFailure("not JSON: \(result)") }
            return object
        }

        /// A git repository in the tool's home, made by the tool, with `files` in one commit.
        @discardableResult
        func repository(_ name: String, _ files: [String: String]) throws -> String {
            for (path, contents) in files { try writeAsTool(contents, to: name + "/" + path, inHome: home) }
            let path = home + "/" + name
            if !FileManager.default.fileExists(atPath: path + "/.git") { try git(["init", "-q", "-b", "main"], in: path) }
            try git(["add", "-A"], in: path)
            try git(["-c", "user.email=tool@kiln.test", "-c", "user.name=tool", "commit", "-q", "-m", "change"], in: path)
            return path
        }

        func git(_ arguments: [String], in directory: String) throws {
            let result = try runCommand("/usr/bin/git", ["-C", directory] + arguments, environment: ["HOME": home], asUser: user)
            guard result.status == 0 else { throw TestFailure("git \(arguments): \(result)") }
        }

        func read(_ relativePath: String) -> String? { try? String(contentsOfFile: home + "/" + relativePath, encoding: .utf8) }

        func stop() {
            _ = try? webservice("stop")
            _ = try? jobs("flush")
            _ = server.terminate()
        }
    }

    /// Whether replicas get networks of their own here (as root, with nftables): each listens on
    /// port 8000, as on Toolforge.
    static let ownNetworks = geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft")

    /// A Flask app that says which build it is, on every path (path and host routing alike).
    /// `web` binds `$PORT`, or with `bind` that address, as a Procfile written for Toolforge may.
    static func flask(_ word: String, bind: String? = nil) -> [String: String] {
        [
            "requirements.txt": "flask\ngunicorn\n",
            "app.py": """
                import os
                from flask import Flask

                app = Flask(__name__)


                @app.route("/", defaults={"path": ""})
                @app.route("/<path:path>")
                def index(path):
                    return {"build": "\(word)", "pid": os.getpid(), "cwd": os.getcwd(), "port": os.environ.get("PORT")}
                """,
            // gunicorn binds $PORT when it is set, as Toolforge's Procfiles rely on.
            "Procfile": "web: gunicorn --workers 2\(bind.map { " --bind " + $0 } ?? "") app:app\n"
                + "version: python -c 'import flask, sys; print(sys.prefix)'\n",
        ]
    }

    static func status(_ build: [String: Any]) -> String? { (build["build"] as? [String: Any])?["status"] as? String }

    /// Asks `url` every 100 ms until cancelled: how many answered 200, and what the others said.
    static func keepAsking(_ url: String) -> Task<(served: Int, failed: [String]), Never> {
        Task {
            var served = 0
            var failed: [String] = []
            while !Task.isCancelled {
                let answer = try? await onOwnThread { try curl([url], timeout: .seconds(10)) }
                if answer?.status == 200 { served += 1 } else { failed.append(answer.map { "\($0.status) \($0.body.prefix(80))" } ?? "no answer") }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return (served, failed)
        }
    }

    // MARK: 1. A Flask app with a Procfile, served as a webservice through the proxy

    @Test func aFlaskAppIsBuiltAndServedThroughTheProxy() async throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let repository = try fixture.repository("app", Self.flask("one"))
        let started = try await onOwnThread { try fixture.build("start", repository) }
        #expect(started.status == 0, "\(started)")
        #expect(started.standardOutput.contains("==> detected python: Python 3."), "\(started)")
        #expect(started.standardOutput.contains("BUILD_SUCCESS"), "\(started)")
        let shown = try fixture.json(try fixture.build("show", "--json"))
        #expect(Self.status(shown) == "BUILD_SUCCESS", "\(shown)")
        let digest = (shown["build"] as? [String: Any])?["digest"] as? String
        #expect(digest?.hasPrefix("sha256:") == true, "\(shown)")
        let listed = try fixture.build("list")
        #expect(listed.standardOutput.contains("\(fixture.tool)-build-1") && listed.standardOutput.contains("BUILD_SUCCESS"), "\(listed)")
        let images = try fixture.jobs("images")
        #expect(images.standardOutput.contains("tool-\(fixture.tool)/\(fixture.tool):latest"), "\(images)")

        // The image is the platform's and read-only; the tool reads it, and cannot change it.
        let image = fixture.data + "/images/\(fixture.tool)/\(fixture.tool)/1"
        var info = stat()
        #expect(stat(image + "/app/app.py", &info) == 0 && info.st_uid == 0 && info.st_mode & 0o222 == 0, "mode \(String(info.st_mode, radix: 8))")
        if let user = fixture.user {
            let write = try runCommand("/bin/sh", ["-c", "echo x >> \(image)/app/app.py"], asUser: user)
            #expect(write.status != 0, "the tool wrote into its sealed image: \(write)")
            let read = try runCommand("/bin/cat", [image + "/app/app.py"], asUser: user)
            #expect(read.status == 0, "\(read)")
        }

        let start = try await onOwnThread { try fixture.webservice("buildservice", "start") }
        #expect(start.status == 0, "\(start)")
        let answer = try curl([fixture.server.httpURL + "/" + fixture.tool + "/hello"])
        #expect(answer.status == 200 && answer.body.contains("\"build\":\"one\""), "\(answer)")
        // The web process runs in the image's application folder (mount: none).
        #expect(answer.body.contains("\"cwd\":\"\(image)/app\""), "\(answer)")
        let byHost = try curl(["-H", "Host: \(fixture.tool).localhost", fixture.server.httpURL + "/"])
        #expect(byHost.status == 200 && byHost.body.contains("\"build\":\"one\""), "\(byHost)")
        if Self.ownNetworks {
            // In a network of its own, on port 8000 as on Toolforge; the proxy reaches it there.
            #expect(answer.body.contains("\"port\":\"8000\""), "\(answer)")
            let backends = try await onOwnThread {
                ((try fixture.json(try fixture.webservice("status", "--json"))["replicas"] as? [[String: Any]]) ?? []).compactMap { $0["backend"] as? String }
            }
            #expect(backends.count == 1 && backends.allSatisfy { $0.hasPrefix("10.201.") && $0.hasSuffix(":8000") }, "\(backends)")
        }

        // Any Procfile process runs as a job, in the image's environment (its virtualenv).
        let job = try fixture.jobs("run", "version", "--command", "version", "--image", "tool-\(fixture.tool)/\(fixture.tool):latest", "--wait")
        #expect(job.status == 0, "\(job)")
        #expect(fixture.read("version.out")?.contains(image + "/layers/python/venv") == true, "\(fixture.read("version.out") ?? "")")
    }

    // MARK: 2. A failing build names its step and keeps the previous image

    @Test func aFailingBuildNamesTheFailingStepAndKeepsThePreviousImage() async throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let repository = try fixture.repository("app", Self.flask("one"))
        let first = try await onOwnThread { try fixture.build("start", repository) }
        #expect(first.status == 0, "\(first)")
        try fixture.repository("app", ["requirements.txt": "flask\nkiln-no-such-package-on-pypi==0.0.1\n"])
        let second = try await onOwnThread { try fixture.build("start", repository) }
        #expect(second.status != 0, "\(second)")
        let shown = try fixture.json(try fixture.build("show", "--json"))
        let build = shown["build"] as? [String: Any] ?? [:]
        #expect(build["status"] as? String == "BUILD_FAILURE", "\(shown)")
        #expect(build["step"] as? String == "dependencies", "\(shown)")
        #expect((build["message"] as? String)?.contains("step 'dependencies' failed: `") == true, "\(shown)")
        #expect((build["message"] as? String)?.contains("install --progress-bar off -r requirements.txt` exited with code 1") == true, "\(shown)")
        let logs = try fixture.build("logs")
        #expect(logs.standardOutput.contains("kiln-no-such-package-on-pypi"), "\(logs)")
        // The image is still the first build's, and the failed one left no folder behind.
        let images = try fixture.jobs("images", "--json")
        #expect(images.standardOutput.contains("\"tool-\(fixture.tool)/\(fixture.tool):1\""), "\(images)")
        #expect(FileManager.default.fileExists(atPath: fixture.data + "/images/\(fixture.tool)/\(fixture.tool)/1/image.json"))
        #expect(!FileManager.default.fileExists(atPath: fixture.data + "/images/\(fixture.tool)/\(fixture.tool)/2"))
        // A repository the platform cannot build is refused at `detect`, naming what is missing.
        try fixture.repository("odd", ["README": "nothing to build\n"])
        let odd = try await onOwnThread { try fixture.build("start", fixture.home + "/odd") }
        #expect(odd.status != 0 && odd.standardOutput.contains("step 'detect' failed: no language found"), "\(odd)")
        try fixture.repository("badproc", ["index.html": "hi\n", "Procfile": "web gunicorn\n"])
        let badProcfile = try await onOwnThread { try fixture.build("start", fixture.home + "/badproc") }
        #expect(badProcfile.status != 0 && badProcfile.standardOutput.contains("Procfile, line 1: expected 'TYPE: COMMAND'"), "\(badProcfile)")
        try fixture.repository("future", ["requirements.txt": "\n", ".python-version": "3.99\n"])
        let future = try await onOwnThread { try fixture.build("start", fixture.home + "/future") }
        #expect(future.status != 0 && future.standardOutput.contains("asks for Python 3.99"), "\(future)")
        try fixture.repository("apt", ["index.html": "hi\n", "Aptfile": "# what the page needs\nkiln-no-such-package\n"])
        let apt = try await onOwnThread { try fixture.build("start", fixture.home + "/apt") }
        #expect(apt.status != 0 && apt.standardOutput.contains("the Aptfile asks for packages this host does not have: kiln-no-such-package"), "\(apt)")
        // No repository named: the latest build's again (here the Aptfile's, refused again).
        let again = try await onOwnThread { try fixture.build("start") }
        #expect(again.status != 0 && again.standardOutput.contains("of \(fixture.home)/apt into"), "\(again)")
    }

    // MARK: 3. A Node.js worker as a continuous job

    @Test func aNodeWorkerRunsAsAContinuousJob() async throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let repository = try fixture.repository("worker", [
            "package.json": #"{"name": "worker", "version": "1.0.0", "private": true, "engines": {"node": ">=18"}, "scripts": {"start": "node worker.js"}}"#,
            "package-lock.json": #"{"name": "worker", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {"": {"name": "worker", "version": "1.0.0"}}}"#,
            "worker.js": """
                const fs = require("fs");
                const path = require("path");
                // The image's folder is read-only (mount: none): the worker writes to the tool's data folder.
                const out = path.join(process.env.TOOL_DATA_DIR, "worker.log");
                fs.appendFileSync(out, `start ${process.pid} ${process.cwd()} ${process.env.NODE_ENV}\n`);
                setInterval(() => fs.appendFileSync(out, `tick ${process.pid}\n`), 200);
                """,
            "Procfile": "worker: node worker.js\n",
        ])
        let built = try await onOwnThread { try fixture.build("start", repository, "--image-name", "worker") }
        #expect(built.status == 0, "\(built)")
        #expect(built.standardOutput.contains("==> detected node: Node.js"), "\(built)")
        #expect(built.standardOutput.contains("npm ci"), "\(built)")
        let run = try fixture.jobs("run", "worker", "--command", "worker", "--image", "tool-\(fixture.tool)/worker:latest", "--continuous")
        #expect(run.status == 0, "\(run)")
        let started = try await JobsToolforgeTests.eventually("the worker's ticks", timeout: .seconds(30)) { () async throws -> String? in
            let log = fixture.read("worker.log") ?? ""
            return log.split(separator: "\n").count >= 3 ? log : nil
        }
        let image = fixture.data + "/images/\(fixture.tool)/worker/1"
        #expect(started.hasPrefix("start ") && started.contains(" \(image)/app production\n"), "\(started)")
        let shown = try fixture.jobs("show", "worker")
        #expect(shown.standardOutput.contains("none"), "mounts: \(shown)")
        // Killed, it comes back (a continuous job like any other).
        let pid = try #require(started.split(separator: "\n").first?.split(separator: " ").dropFirst().first.flatMap { Int32($0) })
        kill(pid, SIGKILL)
        _ = try await JobsToolforgeTests.eventually("the worker back", timeout: .seconds(30)) { () async throws -> Bool? in
            (fixture.read("worker.log") ?? "").split(separator: "\n").filter { $0.hasPrefix("start ") }.count >= 2 ? true : nil
        }
    }

    @Test func aGoProgramIsCompiledAndRunAsAJob() async throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let repository = try fixture.repository("gobot", [
            "go.mod": "module example.org/gobot\n\ngo 1.19\n",
            "main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\twd, _ := os.Getwd()\n\tfmt.Println(\"go says hi from\", wd)\n}\n",
        ])
        let built = try await onOwnThread { try fixture.build("start", repository, "--image-name", "gobot") }
        #expect(built.status == 0 && built.standardOutput.contains("==> detected go") && built.standardOutput.contains("compile: go build"), "\(built)")
        let run = try fixture.jobs("run", "hello", "--command", "gobot", "--image", "tool-\(fixture.tool)/gobot:latest", "--wait")
        #expect(run.status == 0, "\(run)")
        let image = fixture.data + "/images/\(fixture.tool)/gobot/1"
        #expect(fixture.read("hello.out") == "go says hi from \(image)/app\n", "\(fixture.read("hello.out") ?? "")")
        #expect(FileManager.default.isExecutableFile(atPath: image + "/layers/go/bin/gobot"))
    }

    /// PHP with composer: `composer install` writes the autoloader (the project's own classes:
    /// these machines reach PyPI, not Packagist), and with no Procfile PHP's own server serves
    /// the app's folder, here reached by host.
    @Test(.enabled("needs php and composer") { FileManager.default.isExecutableFile(atPath: "/usr/bin/composer") })
    func aPHPAppIsBuiltWithComposerAndServed() async throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let repository = try fixture.repository("phpapp", [
            "composer.json": #"{"name": "kiln/phpapp", "autoload": {"psr-4": {"App\\": "src/"}}, "require": {"php": ">=8.0"}}"#,
            "src/Greeter.php": "<?php\nnamespace App;\n\nfinal class Greeter\n{\n    public static function greet(): string { return 'php says hi on ' . getenv('PORT'); }\n}\n",
            "index.php": "<?php\nrequire __DIR__ . '/vendor/autoload.php';\necho App\\Greeter::greet();\n",
        ])
        let built = try await onOwnThread { try fixture.build("start", repository) }
        #expect(built.status == 0 && built.standardOutput.contains("==> detected php") && built.standardOutput.contains("composer install"), "\(built)")
        let image = fixture.data + "/images/\(fixture.tool)/\(fixture.tool)/1"
        #expect(FileManager.default.fileExists(atPath: image + "/app/vendor/autoload.php"))
        let start = try await onOwnThread { try fixture.webservice("buildservice", "start") }
        #expect(start.status == 0, "\(start)")
        let answer = try await onOwnThread { try curl(["-H", "Host: \(fixture.tool).localhost", fixture.server.httpURL + "/"]) }
        #expect(answer.status == 200 && answer.body.hasPrefix("php says hi on "), "\(answer)")
        if Self.ownNetworks { #expect(answer.body == "php says hi on 8000", "\(answer)") }
    }

    // MARK: 4. A Python job on a schedule, with a dependency from PyPI

    @Test func aScheduledPythonJobUsesItsDependencyFromPyPI() async throws {
        let directory = try makeTemporaryDirectory(prefix: "kb")
        let clockFile = directory + "/clock"
        let midnight = 1_893_456_000  // 2030-01-01T00:00:00Z
        func setClock(_ seconds: Int) throws {
            try String(seconds).write(toFile: clockFile + ".new", atomically: false, encoding: .utf8)
            guard rename(clockFile + ".new", clockFile) == 0 else { throw TestFailure("cannot move the clock") }
        }
        try setClock(midnight + 10)
        let fixture = try Fixture(serverArguments: ["--clock-file", clockFile])
        defer { fixture.stop() }
        let repository = try fixture.repository("bot", [
            "requirements.txt": "six==1.16.0\n",
            "bot.py": """
                import os, six, sys
                with open(os.path.join(os.environ["TOOL_DATA_DIR"], "bot.txt"), "a") as out:
                    out.write(f"six {six.__version__} from {six.__file__} by {sys.executable}\\n")
                """,
            "Procfile": "bot: python bot.py\n",
        ])
        let built = try await onOwnThread { try fixture.build("start", repository, "-i", "bot") }
        #expect(built.status == 0, "\(built)")
        let jobsFile = """
            - name: nightly
              command: bot
              image: tool-\(fixture.tool)/bot:latest
              schedule: "* * * * *"
              emails: none
            """
        try writeAsTool(jobsFile, to: "jobs.yaml", inHome: fixture.home)
        let loaded = try fixture.jobs("load", fixture.home + "/jobs.yaml")
        #expect(loaded.status == 0, "\(loaded)")
        try setClock(midnight + 65)
        let line = try await JobsToolforgeTests.eventually("the scheduled run's line", timeout: .seconds(60)) { () async throws -> String? in
            fixture.read("bot.txt")
        }
        let image = fixture.data + "/images/\(fixture.tool)/bot/1"
        #expect(line.hasPrefix("six 1.16.0 from \(image)/layers/python/venv/"), "\(line)")
        #expect(line.contains("by \(image)/layers/python/venv/bin/python"), "\(line)")
    }

    // MARK: 5. A second build replaces the first, the webservice serving throughout

    @Test func aSecondBuildReplacesTheFirstWhileTheWebserviceServes() async throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        // Where replicas have networks of their own, each binds 8000 itself, as a Procfile
        // written for Toolforge may: two replicas, and the two generations of a restart.
        let bind = Self.ownNetworks ? "0.0.0.0:8000" : nil
        let repository = try fixture.repository("app", Self.flask("one", bind: bind))
        let first = try await onOwnThread { try fixture.build("start", repository) }
        #expect(first.status == 0, "\(first)")
        let start = try await onOwnThread { try fixture.webservice("buildservice", "start", "--replicas", "2") }
        #expect(start.status == 0, "\(start)")
        let url = fixture.server.httpURL + "/" + fixture.tool + "/"
        let load = Self.keepAsking(url)
        try fixture.repository("app", Self.flask("two", bind: bind))
        let second = try await onOwnThread { try fixture.build("start", repository) }
        #expect(second.status == 0, "\(second)")
        // Built, not yet running: the webservice still serves the first image.
        let during = try curl([url])
        #expect(during.body.contains("\"build\":\"one\""), "\(during)")
        let restart = try await onOwnThread { try fixture.webservice("restart") }
        #expect(restart.status == 0, "\(restart)")
        load.cancel()
        let report = await load.value
        print("build figure: requests through a second build and the restart onto it: \(report.served) served, \(report.failed.count) failed \(report.failed.prefix(5))")
        #expect(report.failed.isEmpty && report.served > 0, "\(report.failed.prefix(5))")
        let after = try curl([url])
        #expect(after.status == 200 && after.body.contains("\"build\":\"two\"") && after.body.contains("/images/\(fixture.tool)/\(fixture.tool)/2/app"), "\(after)")
    }

    /// Where replicas have networks of their own: after a `kill -9` of the platform, a replica
    /// that still runs is adopted in its network (same process, same address); one that died
    /// meanwhile starts again in the network it had; nothing of theirs is left behind.
    @Test(.enabled("needs root and nftables") { Self.ownNetworks })
    func replicasKeepTheirNetworksAcrossACrashOfThePlatform() async throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        let repository = try fixture.repository("app", Self.flask("one", bind: "0.0.0.0:8000"))
        #expect(try await onOwnThread { try fixture.build("start", repository) }.status == 0)
        #expect(try await onOwnThread { try fixture.webservice("buildservice", "start", "--replicas", "2") }.status == 0)
        struct Replica: Sendable {
            let pid: Int
            let backend: String
        }
        func replicas() async throws -> [Replica] {
            try await onOwnThread {
                let status = try fixture.json(try fixture.webservice("status", "--json"))
                return ((status["replicas"] as? [[String: Any]]) ?? []).compactMap { replica in
                    guard let pid = replica["pid"] as? Int, let backend = replica["backend"] as? String else { return nil }
                    return Replica(pid: pid, backend: backend)
                }
            }
        }
        let before = try await replicas()
        try #require(before.count == 2, "\(before)")
        let slots = before.compactMap { ReplicaSlot(backend: $0.backend) }
        try #require(slots.count == 2, "\(before)")

        try await onOwnThread {
            fixture.server.kill9()
            kill(Int32(before[1].pid), SIGKILL)
            try fixture.server.restart()
        }
        var after = try await replicas()
        let deadline = ContinuousClock.now + .seconds(30)
        while after.count < 2 || after.contains(where: { $0.pid == before[1].pid }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            after = try await replicas()
        }
        try #require(after.count == 2, "not both replicas back: \(after)\n\(fixture.server.log.suffix(3000))")
        #expect(after[0].pid == before[0].pid, "the survivor was not adopted: \(before) → \(after)")
        #expect(after.map(\.backend) == before.map(\.backend), "a replica moved: \(before) → \(after)")
        let answer = try await onOwnThread { try curl([fixture.server.httpURL + "/" + fixture.tool + "/"]) }
        #expect(answer.status == 200 && answer.body.contains("\"port\":\"8000\""), "\(answer)")

        // Stopped, the replicas' networks go with them.
        #expect(try await onOwnThread { try fixture.webservice("stop") }.status == 0)
        for slot in slots {
            #expect(!FileManager.default.fileExists(atPath: "/run/netns/kiln-\(slot.number)"), "kiln-\(slot.number) left behind")
        }
    }

    /// `--replica-network host`: replicas share the host's network, each on a port of its own
    /// as `$PORT`; and a subnet that is not a private block is refused before anything starts.
    @Test func replicasShareTheHostsNetworkWhenTheOperatorSaysSo() async throws {
        let fixture = try Fixture(serverArguments: ["--replica-network", "host"])
        defer { fixture.stop() }
        let repository = try fixture.repository("app", Self.flask("one"))
        #expect(try await onOwnThread { try fixture.build("start", repository) }.status == 0)
        #expect(try await onOwnThread { try fixture.webservice("buildservice", "start") }.status == 0)
        let answer = try await onOwnThread { try curl([fixture.server.httpURL + "/" + fixture.tool + "/"]) }
        #expect(answer.status == 200 && !answer.body.contains("\"port\":\"8000\""), "\(answer)")
        let backends = try await onOwnThread {
            ((try fixture.json(try fixture.webservice("status", "--json"))["replicas"] as? [[String: Any]]) ?? []).compactMap { $0["backend"] as? String }
        }
        #expect(backends.count == 1 && backends.allSatisfy { $0.hasPrefix("127.0.0.1:") }, "\(backends)")

        let refused = try await onOwnThread { try kiln("serve", "--replica-subnet", "8.8.0.0/16", "--data", "/nonexistent") }
        #expect(refused.status != 0 && refused.standardError.contains("'8.8.0.0/16' is not a subnet for replicas: it is not a private block"), "\(refused)")
    }

    /// The slot of a replica's network, from its address in 10.201.0.0/16 (odd: the replica's end).
    struct ReplicaSlot {
        let number: Int
        init?(backend: String) {
            let parts = backend.split(separator: ":")[0].split(separator: ".").compactMap { Int($0) }
            guard parts.count == 4, parts[0] == 10, parts[1] == 201, parts[3] % 2 == 1 else { return nil }
            number = (parts[2] * 256 + parts[3]) / 2
        }
    }

    // MARK: 6. A tool's images are its own

    @Test func oneToolCannotUseOrSeeAnotherToolsImages() async throws {
        let owner = try Fixture("bo")
        defer { owner.stop() }
        let other = try Fixture("bx", server: owner.server)
        let repository = try owner.repository("app", Self.flask("mine"))
        let built = try await onOwnThread { try owner.build("start", repository) }
        #expect(built.status == 0, "\(built)")
        let image = "tool-\(owner.tool)/\(owner.tool):latest"
        // Not listed, not shown, not runnable, not served, not readable on disk.
        let listed = try other.build("list", "--json")
        #expect(!listed.standardOutput.contains(owner.tool), "\(listed)")
        let images = try other.jobs("images")
        #expect(!images.standardOutput.contains(owner.tool), "\(images)")
        let shown = try other.build("show", "\(owner.tool)-build-1")
        #expect(shown.status != 0, "\(shown)")
        let run = try other.jobs("run", "steal", "--command", "web", "--image", image)
        #expect(run.status != 0 && (run.standardOutput + run.standardError).contains("can run only the images it built"), "\(run)")
        let serve = try other.webservice("buildservice", "start", "--buildservice-image", image)
        #expect(serve.status != 0, "\(serve)")
        // Through the API with the other tool's own token: refused for the owner's builds.
        let token = try String(contentsOfFile: other.home + "/.kiln-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let api = try curl(["-H", "Authorization: Bearer \(token)", owner.server.apiURL + "/v1/tools/\(owner.tool)/builds"])
        #expect(api.status == 403, "\(api)")
        if let user = other.user {
            let look = try runCommand("/bin/ls", [owner.data + "/images/\(owner.tool)"], asUser: user)
            #expect(look.status != 0, "another tool listed the owner's images: \(look)")
            let read = try runCommand("/bin/cat", [owner.data + "/images/\(owner.tool)/\(owner.tool)/1/app/app.py"], asUser: user)
            #expect(read.status != 0, "another tool read the owner's image: \(read)")
            // A build of its own cannot clone the owner's repository: the clone runs as the other tool.
            let clone = try await onOwnThread { try other.build("start", repository) }
            #expect(clone.status != 0 && clone.standardOutput.contains("step 'clone' failed"), "\(clone)")
        }
        // A deleted tool's images and build folder go with it (its group may be another's later).
        let deleted = try kiln("tools", "delete", owner.tool, "--data", owner.data)
        #expect(deleted.status == 0, "\(deleted)")
        #expect(!FileManager.default.fileExists(atPath: owner.data + "/images/\(owner.tool)"))
        #expect(!FileManager.default.fileExists(atPath: owner.data + "/builds/\(owner.tool)"))
    }

    // MARK: 7. Cancel, delete, quota, clean

    @Test func aBuildCanBeCancelledAndImagesCleaned() async throws {
        let fixture = try Fixture()
        defer { fixture.stop() }
        // A build that waits in its compile step until cancelled (a `build` script that sleeps).
        let repository = try fixture.repository("slow", [
            "package.json": #"{"name": "slow", "version": "1.0.0", "scripts": {"build": "sleep 600"}}"#,
        ])
        let started = try fixture.build("start", repository, "--detach")
        #expect(started.status == 0, "\(started)")
        _ = try await JobsToolforgeTests.eventually("the build in its compile step", timeout: .seconds(60)) { () async throws -> Bool? in
            let shown = try fixture.json(try fixture.build("show", "--json"))
            return (shown["build"] as? [String: Any])?["step"] as? String == "compile" ? true : nil
        }
        let second = try fixture.build("start", repository, "--detach")
        #expect(second.status != 0 && second.standardError.contains("has a build under way"), "\(second)")
        let cancelled = try fixture.build("cancel", "--yes-im-sure")
        #expect(cancelled.status == 0, "\(cancelled)")
        let shown = try fixture.json(try fixture.build("show", "--json"))
        #expect(Self.status(shown) == "BUILD_CANCELLED", "\(shown)")
        #expect(!FileManager.default.fileExists(atPath: fixture.data + "/images/\(fixture.tool)/\(fixture.tool)/1"))
        let again = try fixture.build("cancel", "--yes-im-sure")
        #expect(again.status != 0 && again.standardError.contains("already ended"), "\(again)")

        try fixture.repository("slow", ["package.json": #"{"name": "slow", "version": "1.0.0", "scripts": {"start": "node -e 0"}}"#])
        let built = try await onOwnThread { try fixture.build("start", repository) }
        #expect(built.status == 0, "\(built)")
        let quota = try fixture.build("quota")
        #expect(quota.status == 0 && quota.standardOutput.contains("Images"), "\(quota)")
        let deleted = try fixture.build("delete", "\(fixture.tool)-build-1", "--yes-im-sure")
        #expect(deleted.status == 0 && deleted.standardOutput.contains("Deleted \(fixture.tool)-build-1"), "\(deleted)")
        let cache = fixture.data + "/builds/\(fixture.tool)/cache"
        #expect(FileManager.default.fileExists(atPath: cache))
        let clean = try fixture.build("clean", "--yes-im-sure")
        #expect(clean.status == 0 && clean.standardOutput.contains("Deleted 1 images"), "\(clean)")
        // The dependency cache goes too (it counts in the build's disk quota).
        #expect(!FileManager.default.fileExists(atPath: cache))
        #expect(!FileManager.default.fileExists(atPath: fixture.data + "/images/\(fixture.tool)/\(fixture.tool)/2"))
        let run = try fixture.jobs("run", "gone", "--command", "web", "--image", "tool-\(fixture.tool)/\(fixture.tool):latest")
        #expect(!FileManager.default.fileExists(atPath: fixture.data + "/images/\(fixture.tool)/\(fixture.tool)"))
        #expect(run.status != 0, "\(run)")
    }

    // MARK: 8. On a grid: the image's webservice and jobs on the execution hosts

    @Test(.enabled("needs root and Slurm up with two hosts (scripts/grid-up all --two-hosts)") { await GridFailoverTests.twoHosts(.slurm) })
    func theImageRunsOnAGrid() async throws {
        let server = try await onOwnThread {
            try KilnServerProcess(extraArguments: ["--allow-http", "--backend", "slurm"], gridAPIHost: "10.200.0.1")
        }
        let fixture = try Fixture("bg", server: server)
        defer { fixture.stop() }
        let repository = try fixture.repository("app", Self.flask("grid"))
        let built = try await onOwnThread { try fixture.build("start", repository) }
        #expect(built.status == 0, "\(built)")
        let start = try await onOwnThread { try fixture.webservice("buildservice", "start", "--replicas", "2") }
        #expect(start.status == 0 && start.standardOutput.contains("2 replica(s) serving"), "\(start)")
        let status = try fixture.json(try fixture.webservice("status", "--json"))
        let backends = (status["replicas"] as? [[String: Any]] ?? []).compactMap { $0["backend"] as? String }
        print("build figure: buildservice replicas on the grid at \(backends.sorted())")
        #expect(backends.count == 2 && !backends.contains { $0.hasPrefix("127.") }, "\(backends)")
        let answer = try curl([fixture.server.httpURL + "/" + fixture.tool + "/"])
        #expect(answer.status == 200 && answer.body.contains("\"build\":\"grid\""), "\(answer)")
        let job = try fixture.jobs("run", "version", "--command", "version", "--image", "tool-\(fixture.tool)/\(fixture.tool):latest", "--wait")
        #expect(job.status == 0, "\(job)")
        #expect(fixture.read("version.out")?.contains("/images/\(fixture.tool)/\(fixture.tool)/1/layers/python/venv") == true, "\(fixture.read("version.out") ?? "")")
    }
}

