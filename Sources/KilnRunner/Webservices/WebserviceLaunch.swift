import Foundation
import KilnCore
import KilnFiles

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
    /// Where servers that talk over a Unix socket (PHP's FastCGI) make it: a folder of the tool's own.
    public var runtimeDirectory: RuntimeDirectory?
    /// Where each replica's start reads the tool's envvars (so a change reaches the next start).
    public var environments: ToolEnvironments?

    public init(
        tool: ToolName, user: UnixIdentity?, home: String, spec: WebserviceSpec, kilnExecutable: String,
        runtimeDirectory: RuntimeDirectory? = nil, environments: ToolEnvironments? = nil
    ) {
        self.environments = environments
        self.tool = tool
        self.user = user
        self.home = home
        self.spec = spec
        self.kilnExecutable = kilnExecutable
        self.runtimeDirectory = runtimeDirectory
    }

    /// The tool's home, reached as the tool's own.
    public var files: ConfinedDirectory { ConfinedDirectory(path: home, owner: FileOwner(user)) }
    /// Whose listeners the replicas' ports must be: the servers run as the tool's user.
    public var backendOwner: BackendOwner { .processes(of: user, serverUID: geteuid()) }
    /// Files the platform writes for the tool's servers (configuration, shims), inside its home.
    static let generatedFolder = HomePath(platform: ".kiln")
    var generatedFolderPath: String { Self.generatedFolder.absolute(in: home) }
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
        try files.makeDirectory(Self.generatedFolder)
        let (executable, arguments, workingDirectory, extraEnvironment) = try program(port: port, replica: index, write: true)
        let defaults = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"].merging(extraEnvironment) { _, type in type }
        var platform = [
            "HOME": home, "PORT": String(port), "TOOL_NAME": tool.rawValue, "TOOL_DATA_DIR": home, "KILN_TOOL": tool.rawValue,
            "KILN_REPLICA": String(index),
        ]
        if let user {
            platform["USER"] = user.name
            platform["LOGNAME"] = user.name
        }
        let environment = ToolEnvironments.layered(defaults: defaults, tool: environments?.of(tool) ?? [:], platform: platform)
        return ProcessSpec(
            executable: executable, arguments: arguments, environment: environment, workingDirectory: workingDirectory,
            user: user, standardOutput: .file(files, LogStream.out.webserviceLog),
            standardError: .file(files, LogStream.err.webserviceLog),
            stopGracePeriod: .seconds(5), limits: limits(replica: index))
    }

    /// The replica's limits, in its own control groups within its tool's. The instance is the
    /// folder of homes, as for jobs, so the tool's process limit counts its jobs and replicas together.
    public func limits(replica index: Int) -> ResourceLimits {
        ResourceLimits(
            memory: spec.memory, cpu: spec.cpu,
            unit: ControlGroupUnit(instance: (home as NSString).deletingLastPathComponent, tool: tool, unit: "web-\(index)"))
    }

    typealias Program = (executable: String, arguments: [String], workingDirectory: String, environment: [String: String])

    func program(port: Int, replica: Int = 0, write: Bool = false) throws(KilnError) -> Program {
        let bind = "127.0.0.1:\(port)"
        switch spec.type {
        case .python311:
            let appDirectory = try pythonAppDirectory()
            let venv = home + "/www/python/venv/bin/gunicorn"
            let gunicorn = try toolCan { isExecutable(venv) } ? venv : try hostProgram("gunicorn", package: "gunicorn")
            if write { try writeFile("kiln_wsgi.py", Self.wsgiShim) }
            return (
                gunicorn,
                ["--bind", bind, "--workers", "2", "--chdir", appDirectory, "--pythonpath", "\(generatedFolderPath),\(appDirectory)",
                 "--access-logfile", "-", "--graceful-timeout", "4", "kiln_wsgi:application"] + spec.extraArguments,
                appDirectory, ["KILN_PATH_PREFIX": pathPrefix, "PYTHONUNBUFFERED": "1"])
        case .php82:
            let root = try directory(home + "/public_html", "a php8.2 webservice serves public_html/ in the tool's home")
            let lighttpd = try hostProgram("lighttpd", package: "lighttpd", in: ["/usr/sbin", "/usr/bin"])
            let phpCGI = try hostProgram("php-cgi", package: "php8.2-cgi")
            let configuration = "lighttpd-\(replica).conf"
            if write {
                let socket = try socketFolder() + "/php-\(replica).sock"
                try writeFile(configuration, lighttpdConfiguration(root: root, port: port, replica: replica, phpCGI: phpCGI, socket: socket))
            }
            return (lighttpd, ["-D", "-f", generatedFolderPath + "/" + configuration] + spec.extraArguments, home, [:])
        case .node18:
            let directory = try directory(home + "/www/js", "a node18 webservice runs `npm start` in www/js in the tool's home")
            guard try toolCan({ FileManager.default.fileExists(atPath: directory + "/package.json") }) else {
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
        for directory in [home + "/www/python/src", home] where try toolCan({ FileManager.default.fileExists(atPath: directory + "/app.py") }) {
            return directory
        }
        throw missing("app.py", "a python3.11 webservice needs app.py exposing `app` (a WSGI app such as Flask's), in the tool's home or www/python/src/")
    }

    func directory(_ path: String, _ why: String) throws(KilnError) -> String {
        let isDirectory = try toolCan {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        guard isDirectory else {
            throw missing(String(path.dropFirst(home.count + 1)) + "/", why)
        }
        return path
    }

    /// Whether the tool can see what `check` asks of its home, asked with the tool's rights: its
    /// links are followed only as far as the tool itself may go (see `ToolRights`).
    func toolCan(_ check: () -> Bool) throws(KilnError) -> Bool {
        try ToolRights.checking(as: FileOwner(user)) { check() }
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

    /// Writes a generated file into `.kiln/` (replacing whatever had its name, a link included).
    func writeFile(_ name: String, _ contents: String) throws(KilnError) {
        try files.write(Array(contents.utf8), to: Self.generatedFolder.appending(name), mode: 0o644)
    }

    /// The folder of the tool's own where its PHP server makes its socket: out of every other
    /// tool's reach, unlike a name in the shared /tmp that another tool could take first.
    func socketFolder() throws(KilnError) -> String {
        guard let runtimeDirectory else {
            throw KilnError(.unavailable, "this host gave the platform no folder for tools' sockets (/dev/shm or the data directory)")
        }
        return try runtimeDirectory.socketFolder(of: tool, owner: FileOwner(user))
    }

    /// lighttpd serving `public_html` at `/` and at `/TOOL/`, PHP through php-cgi over FastCGI.
    func lighttpdConfiguration(root: String, port: Int, replica: Int, phpCGI: String, socket: String) -> String {
        """
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
