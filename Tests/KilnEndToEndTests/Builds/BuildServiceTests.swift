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

    /// A Flask app that says which build it is, on every path (path and host routing alike).
    static func flask(_ word: String) -> [String: String] {
        [
            "requirements.txt": "flask\ngunicorn\n",
            "app.py": """
                import os
                from flask import Flask

                app = Flask(__name__)


                @app.route("/", defaults={"path": ""})
                @app.route("/<path:path>")
                def index(path):
                    return {"build": "\(word)", "pid": os.getpid(), "cwd": os.getcwd()}
                """,
            // gunicorn binds $PORT when it is set, as Toolforge's Procfiles rely on.
            "Procfile": "web: gunicorn --workers 2 app:app\nversion: python -c 'import flask, sys; print(sys.prefix)'\n",
        ]
    }

    static func status(_ build: [String: Any]) -> String? { (build["build"] as? [String: Any])?["status"] as? String }

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
        #expect((build["message"] as? String)?.contains("step 'dependencies' failed: `pip install") == true, "\(shown)")
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
    }
}
