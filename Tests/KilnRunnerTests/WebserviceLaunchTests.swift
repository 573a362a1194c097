import Foundation
import KilnCore
import KilnFiles
@testable import KilnRunner
import KilnTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct WebserviceLaunchTests {
    let runtime = RuntimeDirectory.prepare(tag: "test-\(UUID().uuidString)", fallback: NSTemporaryDirectory() + "/kiln-run-\(UUID().uuidString)")

    func launch(_ type: WebserviceType, command: String? = nil, files: [String: String] = [:], extra: [String] = []) throws -> WebserviceLaunch {
        let home = NSTemporaryDirectory() + "/kiln-home-\(UUID().uuidString)"
        for (path, contents) in files {
            let full = home + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try contents.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let spec = try WebserviceSpec(type: type, command: command, memory: MemorySize(bytes: 256 << 20), extraArguments: extra)
        return WebserviceLaunch(
            tool: try ToolName("demo"), user: nil, home: home, spec: spec, kilnExecutable: "/usr/local/bin/kiln", runtimeDirectory: runtime)
    }

    @Test(arguments: [
        (WebserviceType.python311, "app.py"), (.php82, "public_html/"), (.node18, "www/js/"), (.staticFiles, "public_html/"),
    ])
    func whatATypeNeedsIsNamedWhenMissing(type: WebserviceType, missing: String) throws {
        let error = #expect(throws: KilnError.self) { try launch(type).check() }
        #expect(error?.context["missing"] == missing, "\(String(describing: error))")
        #expect(error?.message.contains("the tool 'demo' has no \(missing)") == true)
    }

    /// On a grid, the runner has the server listen at its execution host's address.
    @Test func aGridReplicasServerListensOnItsHostsAddress() throws {
        var python = try launch(.python311, files: ["app.py": "app = None\n"])
        python.bindAddress = "10.200.0.11"
        #expect(try python.processSpec(replica: 0, port: 8000).arguments.starts(with: ["--bind", "10.200.0.11:8000"]))
        var php = try launch(.php82, files: ["public_html/index.php": "<?php echo 1;"])
        php.bindAddress = "10.200.0.11"
        _ = try php.processSpec(replica: 0, port: 8001)
        let configuration = try String(contentsOfFile: php.home + "/.kiln/lighttpd-0.conf", encoding: .utf8)
        #expect(configuration.contains(#"server.bind = "10.200.0.11""#) && configuration.contains("server.port = 8001"))
    }

    @Test func aPythonAppRunsUnderGunicornWithTheToolsPrefixAndLimits() throws {
        let launch = try launch(.python311, files: ["www/python/src/app.py": "app = None\n"], extra: ["--timeout", "60"])
        let spec = try launch.processSpec(replica: 0, port: 8000)
        #expect(spec.executable.hasSuffix("/gunicorn"))
        #expect(spec.arguments.starts(with: ["--bind", "127.0.0.1:8000"]))
        #expect(spec.arguments.suffix(3) == ["kiln_wsgi:application", "--timeout", "60"])
        #expect(spec.workingDirectory == launch.home + "/www/python/src")
        #expect(spec.environment["KILN_PATH_PREFIX"] == "/demo")
        #expect(spec.environment["PORT"] == "8000" && spec.environment["HOME"] == launch.home)
        #expect(spec.standardError.hostPath == launch.home + "/logs/web.err")
        #expect(FileManager.default.fileExists(atPath: launch.home + "/.kiln/kiln_wsgi.py"))
        let limits = try #require(spec.limits)
        #expect(limits.memory == MemorySize(bytes: 256 << 20) && limits.unit?.group.hasSuffix("/demo/web-0") == true)
        // Without control groups the entry sets the data segment limit, becomes the tool and
        // enters its folder, then runs the server.
        let entry = ResourceLimits.Entry(groupFiles: [], dataLimitKiB: (256 << 20) / 1024)
        let command = ProcessEntry.command(for: spec, entry: entry, helper: "/opt/kiln/kiln-enter")
        #expect(command.executable == "/opt/kiln/kiln-enter")
        #expect(command.arguments.prefix(2) == ["-d", "262144"])
        let separator = try #require(command.arguments.firstIndex(of: "--"))
        #expect(command.arguments[separator - 2 ..< separator] == ["-C", spec.workingDirectory])
        #expect(Array(command.arguments[(separator + 1)...]) == [spec.executable] + spec.arguments)
    }

    /// What a type needs is looked for with the tool's rights: a link from the tool's home to a
    /// file only root may see counts as missing (root following it would tell the tool whether
    /// any path of the host exists), and a link to a file of the tool's own still counts.
    @Test func whatATypeNeedsIsLookedForWithTheToolsRights() throws {
        let user = try #require(TestToolUser.identity, "needs root, with the tool another user")
        let home = try TestToolUser.makeHome(prefix: "kiln-rights")
        let closed = try makeTemporaryDirectory(prefix: "kiln-closed")
        #expect(chmod(closed, 0o700) == 0)
        #expect(FileManager.default.createFile(atPath: closed + "/app.py", contents: Data("app = None\n".utf8)))
        #expect(symlink(closed + "/app.py", home + "/app.py") == 0)
        #expect(lchown(home + "/app.py", user.uid, user.gid) == 0)
        let spec = try WebserviceSpec(type: .python311, memory: MemorySize(bytes: 256 << 20))
        let launch = WebserviceLaunch(tool: try ToolName("demo"), user: user, home: home, spec: spec, kilnExecutable: "/usr/local/bin/kiln")
        let error = #expect(throws: KilnError.self) { try launch.check() }
        #expect(error?.context["missing"] == "app.py", "\(String(describing: error))")
        #expect(access(closed + "/app.py", R_OK) == 0, "the thread has root's rights again")
        // The tool's own file, linked from elsewhere in its home.
        try writeAsTool("app = None\n", to: "src/app.py", inHome: home)
        #expect(unlink(home + "/app.py") == 0 && symlink(home + "/src/app.py", home + "/app.py") == 0)
        #expect(throws: Never.self) { try launch.check() }
    }

    @Test func aToolsOwnVirtualenvWins() throws {
        let launch = try launch(.python311, files: ["app.py": "app = None\n", "www/python/venv/bin/gunicorn": "#!/bin/sh\n"])
        chmod(launch.home + "/www/python/venv/bin/gunicorn", 0o755)
        let spec = try launch.processSpec(replica: 0, port: 8000)
        #expect(spec.executable == launch.home + "/www/python/venv/bin/gunicorn")
        #expect(spec.workingDirectory == launch.home)
    }

    @Test func phpIsServedByLighttpdUnderBothPaths() throws {
        let launch = try launch(.php82, files: ["public_html/index.php": "<?php echo 1;"])
        let spec = try launch.processSpec(replica: 1, port: 8001)
        #expect(spec.arguments == ["-D", "-f", launch.home + "/.kiln/lighttpd-1.conf"])
        let configuration = try String(contentsOfFile: launch.home + "/.kiln/lighttpd-1.conf", encoding: .utf8)
        #expect(configuration.contains("server.port = 8001"))
        #expect(configuration.contains(#"alias.url = ("/demo/" => "\#(launch.home)/public_html/")"#))
        #expect(configuration.contains(#""bin-path" => "/usr/bin/php-cgi""#))
        // The FastCGI socket is in a folder of the tool's own, not in the shared /tmp.
        let runtime = try #require(self.runtime)
        #expect(configuration.contains(#""socket" => "\#(runtime.path)/sockets/demo/php-1.sock""#))
        runtime.tidy(removingFiles: true)
    }

    @Test func staticAndGenericTypes() throws {
        let staticSpec = try launch(.staticFiles, files: ["public_html/index.html": "x"]).processSpec(replica: 0, port: 9000)
        #expect(staticSpec.executable == "/usr/local/bin/kiln")
        #expect(staticSpec.arguments.starts(with: ["static-server", "--root"]))
        #expect(staticSpec.arguments.contains("127.0.0.1:9000"))
        let generic = try launch(.generic, command: "./serve --port $PORT", extra: ["it's"]).processSpec(replica: 0, port: 9001)
        #expect(generic.executable == "/bin/sh")
        #expect(generic.arguments == ["-c", #"./serve --port $PORT 'it'\''s'"#])
    }
}
