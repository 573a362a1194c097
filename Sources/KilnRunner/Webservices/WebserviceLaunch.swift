import Foundation
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// How one replica of a tool's webservice is started: the server program for its type, its
/// arguments and environment, generated configuration, logs. Everything here is derived from the
/// declaration, the tool and the port, so the same replica starts the same way every time.
public struct WebserviceLaunch: Sendable {
    public var tool: ToolName
    public var user: UnixIdentity?
    public var home: String
    public var spec: WebserviceSpec
    /// The `kiln` executable, which serves the `static` type itself.
    public var kilnExecutable: String

    public init(tool: ToolName, user: UnixIdentity?, home: String, spec: WebserviceSpec, kilnExecutable: String) {
        self.tool = tool
        self.user = user
        self.home = home
        self.spec = spec
        self.kilnExecutable = kilnExecutable
    }

    /// Whose listeners the replicas' ports must be: the servers run as the tool's user.
    public var backendOwner: BackendOwner { .processes(of: user, serverUID: geteuid()) }

    public var logDirectory: String { home + "/logs" }
    public var standardOutputPath: String { logDirectory + "/web.out" }
    public var standardErrorPath: String { logDirectory + "/web.err" }
    /// Files the platform writes for the tool's servers (configuration, shims), inside its home.
    var runtimeDirectory: String { home + "/.kiln" }
    /// The path prefix under which the proxy passes requests on (`/TOOL`); servers answer under
    /// it and under `/` (host routing), as Toolforge's do.
    var pathPrefix: String { "/" + tool.rawValue }

    /// Checks that the tool has what its type needs (an app.py, a public_html/, a package.json…);
    /// `start` refuses with this message rather than declaring a webservice that cannot run.
    public func check() throws(KilnError) {
        _ = try program(port: 0)
    }

    /// The process spec of replica `index` listening on `port`; writes the generated files.
    public func processSpec(replica index: Int, port: Int) throws(KilnError) -> ProcessSpec {
        try makeRuntimeDirectory()
        let (executable, arguments, workingDirectory, extraEnvironment) = try program(port: port, replica: index, write: true)
        var environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "PORT": String(port),
            "TOOL_NAME": tool.rawValue, "TOOL_DATA_DIR": home, "KILN_TOOL": tool.rawValue,
            "KILN_REPLICA": String(index),
        ]
        if let user {
            environment["USER"] = user.name
            environment["LOGNAME"] = user.name
        }
        environment.merge(extraEnvironment) { _, new in new }
        return ProcessSpec(
            executable: executable, arguments: arguments, environment: environment, workingDirectory: workingDirectory,
            user: user, standardOutputPath: standardOutputPath, standardErrorPath: standardErrorPath,
            stopGracePeriod: .seconds(5), limits: limits(replica: index))
    }

    /// The replica's limits, with its own CPU group.
    public func limits(replica index: Int) -> ResourceLimits {
        ResourceLimits(
            memory: spec.memory, cpu: spec.cpu, cgroupName: CPUCgroup.groupName(instance: home, tool: tool, replica: index))
    }

    typealias Program = (executable: String, arguments: [String], workingDirectory: String, environment: [String: String])

    func program(port: Int, replica: Int = 0, write: Bool = false) throws(KilnError) -> Program {
        let bind = "127.0.0.1:\(port)"
        switch spec.type {
        case .python311:
            let appDirectory = try pythonAppDirectory()
            let venv = home + "/www/python/venv/bin/gunicorn"
            let gunicorn = isExecutable(venv) ? venv : try hostProgram("gunicorn", package: "gunicorn")
            if write { try writeFile("kiln_wsgi.py", Self.wsgiShim) }
            return (
                gunicorn,
                ["--bind", bind, "--workers", "2", "--chdir", appDirectory, "--pythonpath", "\(runtimeDirectory),\(appDirectory)",
                 "--access-logfile", "-", "--graceful-timeout", "4", "kiln_wsgi:application"] + spec.extraArguments,
                appDirectory, ["KILN_PATH_PREFIX": pathPrefix, "PYTHONUNBUFFERED": "1"])
        case .php82:
            let root = try directory(home + "/public_html", "a php8.2 webservice serves public_html/ in the tool's home")
            let lighttpd = try hostProgram("lighttpd", package: "lighttpd", in: ["/usr/sbin", "/usr/bin"])
            let phpCGI = try hostProgram("php-cgi", package: "php8.2-cgi")
            let configuration = "lighttpd-\(replica).conf"
            if write {
                try writeFile(configuration, lighttpdConfiguration(root: root, port: port, replica: replica, phpCGI: phpCGI))
            }
            return (lighttpd, ["-D", "-f", runtimeDirectory + "/" + configuration] + spec.extraArguments, home, [:])
        case .node18:
            let directory = try directory(home + "/www/js", "a node18 webservice runs `npm start` in www/js in the tool's home")
            guard FileManager.default.fileExists(atPath: directory + "/package.json") else {
                throw missing("www/js/package.json", "`npm start` needs a package.json with a start script")
            }
            let npm = try hostProgram("npm", package: "npm")
            return (npm, ["start"] + (spec.extraArguments.isEmpty ? [] : ["--"] + spec.extraArguments), directory, [:])
        case .staticFiles:
            let root = try directory(home + "/public_html", "a static webservice serves public_html/ in the tool's home")
            return (
                kilnExecutable, ["static-server", "--root", root, "--prefix", pathPrefix, "--bind", bind] + spec.extraArguments,
                home, [:])
        case .generic:
            let command = ([spec.command ?? ""] + spec.extraArguments.map(Self.shellQuoted)).joined(separator: " ")
            return ("/bin/sh", ["-c", command], home, [:])
        }
    }

    func pythonAppDirectory() throws(KilnError) -> String {
        for directory in [home + "/www/python/src", home] where FileManager.default.fileExists(atPath: directory + "/app.py") {
            return directory
        }
        throw missing("app.py", "a python3.11 webservice needs app.py exposing `app` (a WSGI app such as Flask's), in the tool's home or www/python/src/")
    }

    func directory(_ path: String, _ why: String) throws(KilnError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw missing(String(path.dropFirst(home.count + 1)) + "/", why)
        }
        return path
    }

    func missing(_ what: String, _ why: String) -> KilnError {
        KilnError(
            .invalidWebservice, "the tool '\(tool)' has no \(what): \(why)",
            context: ["tool": tool.rawValue, "missing": what])
    }

    func hostProgram(_ name: String, package: String, in directories: [String] = ["/usr/local/bin", "/usr/bin", "/bin"]) throws(KilnError) -> String {
        for directory in directories where isExecutable(directory + "/" + name) { return directory + "/" + name }
        throw KilnError(
            .unavailable, "this host cannot run \(spec.type.rawValue) webservices: \(name) is not installed (Debian package \(package))",
            context: ["program": name])
    }

    func isExecutable(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

    func makeRuntimeDirectory() throws(KilnError) {
        do {
            try FileManager.default.createDirectory(atPath: runtimeDirectory, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        } catch {
            throw KilnError(.internalError, "cannot create \(runtimeDirectory): \(error)")
        }
        if let user {
            chown(runtimeDirectory, user.uid, user.gid)
            chown(logDirectory, user.uid, user.gid)
        }
    }

    func writeFile(_ name: String, _ contents: String) throws(KilnError) {
        let path = runtimeDirectory + "/" + name
        do {
            try Data(contents.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw KilnError(.internalError, "cannot write \(path): \(error)")
        }
        chmod(path, 0o644)
        if let user { chown(path, user.uid, user.gid) }
    }

    /// lighttpd serving `public_html` at `/` and at `/TOOL/`, PHP through php-cgi over FastCGI.
    func lighttpdConfiguration(root: String, port: Int, replica: Int, phpCGI: String) -> String {
        // A Unix socket's path is limited to 107 bytes: keep it short, and apart per replica.
        let socket = "/tmp/kiln-php-\(tool.rawValue)-\(port).sock"
        return """
            # Written by Kiln for \(tool.rawValue)'s php8.2 webservice, replica \(replica): regenerated at every start.
            server.modules = ("mod_access", "mod_alias", "mod_fastcgi")
            server.document-root = "\(root)"
            server.bind = "127.0.0.1"
            server.port = \(port)
            server.tag = "lighttpd"
            index-file.names = ("index.php", "index.html", "index.htm")
            static-file.exclude-extensions = (".php")
            alias.url = ("\(pathPrefix)/" => "\(root)/")
            mimetype.assign = (
              ".html" => "text/html; charset=utf-8", ".htm" => "text/html; charset=utf-8",
              ".css" => "text/css", ".js" => "text/javascript", ".json" => "application/json",
              ".png" => "image/png", ".jpg" => "image/jpeg", ".gif" => "image/gif", ".svg" => "image/svg+xml",
              ".txt" => "text/plain; charset=utf-8", "" => "application/octet-stream"
            )
            fastcgi.server = (".php" => ((
              "bin-path" => "\(phpCGI)",
              "socket" => "\(socket)",
              "max-procs" => 1,
              "bin-environment" => ("PHP_FCGI_CHILDREN" => "2", "PHP_FCGI_MAX_REQUESTS" => "500"),
              "broken-scriptfilename" => "enable"
            )))

            """
    }

    /// Serves the tool's `app` under `/TOOL/` (the proxy passes paths on unchanged) as under `/`
    /// (host routing): the prefix moves to SCRIPT_NAME, so the app's own URLs carry it.
    static let wsgiShim = """
        # Written by Kiln: serves the tool's app.py under /TOOL/ as under /. Regenerated at every start.
        import os
        from app import app as _app

        _prefix = os.environ.get("KILN_PATH_PREFIX", "")


        def application(environ, start_response):
            path = environ.get("PATH_INFO", "")
            if _prefix and (path == _prefix or path.startswith(_prefix + "/")):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + _prefix
                environ["PATH_INFO"] = path[len(_prefix):] or "/"
            return _app(environ, start_response)

        """

    static func shellQuoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
