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
    /// The host's language runtimes, which the types' servers and commands run on.
    public var runtimes: HostRuntimes = .shared
    /// Where the servers listen: the loopback interface on the platform's host; a grid
    /// execution host's own address for a replica the proxy reaches over the network.
    public var bindAddress = "127.0.0.1"
    /// A `buildservice` webservice's image, found for this start (its newest build), or why it
    /// cannot be had.
    public var builtImage: Result<ImageLaunch, KilnError>?
    /// The replica's network of its own, where its server listens on all its addresses at
    /// `ReplicaNetwork.port`; nil: the host's, on the port the platform gives it.
    public var network: ReplicaNetwork?

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

    /// The process spec of replica `index` listening on `port` (in its own network, at
    /// `ReplicaNetwork.port` whatever `port` says); writes the generated files.
    public func processSpec(replica index: Int, port: Int) throws(KilnError) -> ProcessSpec {
        var launch = self
        if network != nil { launch.bindAddress = "0.0.0.0" }
        var spec = try launch.hostProcessSpec(replica: index, port: network == nil ? port : ReplicaNetwork.port)
        spec.networkNamespace = network?.namespacePath
        return spec
    }

    private func hostProcessSpec(replica index: Int, port: Int) throws(KilnError) -> ProcessSpec {
        try files.makeDirectory(Self.generatedFolder)
        let (executable, arguments, workingDirectory, extraEnvironment) = try program(port: port, replica: index, write: true)
        let defaults = ["PATH": Self.defaultPath, "LANG": "C.UTF-8"].merging(extraEnvironment) { _, type in type }
        var platform = Self.platformEnvironment(tool: tool, home: home, user: user)
        platform["PORT"] = String(port)
        platform["KILN_REPLICA"] = String(index)
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
        let bind = "\(bindAddress):\(port)"
        let type = spec.type
        switch type.family {
        case .python:
            let appDirectory = try pythonAppDirectory()
            let venv = home + "/www/python/venv/bin/gunicorn"
            let gunicorn = try toolCan { isExecutable(venv) } ? venv : try hostProgram("gunicorn", package: "gunicorn")
            if write { try writeFile("kiln_wsgi.py", Self.wsgiShim) }
            return (
                gunicorn,
                ["--bind", bind, "--workers", "2", "--chdir", appDirectory, "--pythonpath", "\(generatedFolderPath),\(appDirectory)",
                 "--access-logfile", "-", "--graceful-timeout", "4", "kiln_wsgi:application"] + spec.extraArguments,
                appDirectory, ["KILN_PATH_PREFIX": pathPrefix, "PYTHONUNBUFFERED": "1"])
        case .php:
            let root = try directory(home + "/public_html", "a \(type.name) webservice serves public_html/ in the tool's home")
            let phpCGI = try hostProgram("php-cgi", package: "php-cgi")
            return try lighttpd(root: root, port: port, replica: replica, write: write, handlers: .php(phpCGI: phpCGI))
        case .lighttpdPlain:
            return try lighttpdPlain(port: port, replica: replica, write: write)
        case .node:
            let directory = try directory(home + "/www/js", "a \(type.name) webservice runs `npm start` in www/js in the tool's home")
            guard try toolCan({ FileManager.default.fileExists(atPath: directory + "/package.json") }) else {
                throw missing("www/js/package.json", "`npm start` needs a package.json with a start script")
            }
            let npm = try hostProgram("npm", package: "npm")
            return (npm, ["start"] + (spec.extraArguments.isEmpty ? [] : ["--"] + spec.extraArguments), directory, try runtimeEnvironment())
        case .uwsgiPlain:
            guard try toolCan({ FileManager.default.fileExists(atPath: home + "/uwsgi.ini") }) else {
                throw missing("uwsgi.ini", "a \(type.name) webservice runs uWSGI with the tool's uwsgi.ini")
            }
            let uwsgi = try hostProgram("uwsgi", package: "uwsgi-core")
            return (uwsgi, ["--http-socket", bind, "--ini", home + "/uwsgi.ini"] + spec.extraArguments, home, [:])
        case .staticFiles:
            let root = try directory(home + "/public_html", "a static webservice serves public_html/ in the tool's home")
            return (
                kilnExecutable, ["static-server", "--root", root, "--prefix", pathPrefix, "--bind", bind] + spec.extraArguments,
                home, [:])
        case .command:
            let words = (spec.command.map { [$0] } ?? []) + spec.extraArguments.map(Self.shellQuoted)
            // perl and tcl without a command are served as Toolforge serves them: CGI by lighttpd.
            guard !words.isEmpty else { return try lighttpdPlain(port: port, replica: replica, write: write) }
            return ("/bin/sh", ["-c", words.joined(separator: " ")], home, try runtimeEnvironment(required: true))
        case .buildservice:
            return try builtImageProgram(port: port)
        }
    }

    /// The image's process (`--command`, default `web`) by its shell, in the image's application
    /// folder and environment, on `$PORT`; a static site without a web process is served by Kiln.
    func builtImageProgram(port: Int) throws(KilnError) -> Program {
        guard let builtImage else {
            throw KilnError(.invalidWebservice, "the buildservice webservice's image was not looked up", context: ["field": "buildservice-image"])
        }
        let image = try builtImage.get()
        let process = spec.command ?? "web"
        var environment = image.environment
        environment["PATH"] = image.path(after: Self.defaultPath)
        if image.language == .static && image.processes.isEmpty && process == "web" {
            return (
                kilnExecutable, ["static-server", "--root", image.workingDirectory, "--prefix", pathPrefix, "--bind", "\(bindAddress):\(port)"],
                image.workingDirectory, environment)
        }
        let known = image.processes.contains { $0.type == process }
        guard known || process.contains(" ") || process.hasPrefix("launcher ") else {
            let have = image.processes.map(\.type)
            throw KilnError(
                .invalidWebservice,
                "the image has no '\(process)' process: its Procfile declares \(have.isEmpty ? "none" : have.joined(separator: ", ")); add a 'web:' line to the repository's Procfile and build again",
                context: ["field": "command", "value": process])
        }
        let words = [image.shellCommand(for: process)] + spec.extraArguments.map(Self.shellQuoted)
        return ("/bin/sh", ["-c", words.joined(separator: " ")], image.workingDirectory, environment)
    }

    /// The type's runtime first on `PATH` (and `JAVA_HOME` for a JDK), so the tool's command finds
    /// the host's program of it. A missing runtime refuses the start, except Go's: a built Go
    /// program needs no Go to run.
    func runtimeEnvironment(required: Bool = false) throws(KilnError) -> [String: String] {
        try Self.runtimeEnvironment(of: spec.type, runtimes: runtimes, required: required)
    }

    /// The environment that puts `type`'s runtime first (for its servers, and `webservice shell`).
    public static func runtimeEnvironment(of type: WebserviceType, runtimes: HostRuntimes, required: Bool) throws(KilnError) -> [String: String] {
        guard let runtime = type.runtime else { return [:] }
        guard let found = runtimes.find(runtime) else {
            guard required, runtime != .golang else { return [:] }
            throw KilnError(
                .unavailable,
                "this host cannot run \(type.name) webservices: \(runtime.program) is not installed (Debian package \(runtime.debianPackage))",
                context: ["program": runtime.program])
        }
        let real = URL(fileURLWithPath: found.path).resolvingSymlinksInPath().path
        let folder = (real as NSString).deletingLastPathComponent
        var environment = ["PATH": folder + ":" + defaultPath]
        if runtime == .java { environment["JAVA_HOME"] = (folder as NSString).deletingLastPathComponent }
        return environment
    }

    /// What the platform sets for every process of the tool's webservice (and its shell).
    public static func platformEnvironment(tool: ToolName, home: String, user: UnixIdentity?) -> [String: String] {
        var platform = ["HOME": home, "TOOL_NAME": tool.rawValue, "TOOL_DATA_DIR": home, "KILN_TOOL": tool.rawValue]
        if let user {
            platform["USER"] = user.name
            platform["LOGNAME"] = user.name
        }
        return platform
    }

    /// The `PATH` of every tool's process, after its type's runtime.
    public static let defaultPath = "/usr/local/bin:/usr/bin:/bin"

    /// public_html/ by lighttpd without PHP: static files, CGI scripts run by the host's perl,
    /// tclsh or python3, and the tool's own `.lighttpd.conf` (as on Toolforge's lighttpd-plain).
    func lighttpdPlain(port: Int, replica: Int, write: Bool) throws(KilnError) -> Program {
        let root = try directory(home + "/public_html", "a \(spec.type.name) webservice serves public_html/ in the tool's home (static files and CGI scripts)")
        let ownConfiguration = home + "/.lighttpd.conf"
        let includes = try toolCan({ FileManager.default.fileExists(atPath: ownConfiguration) }) ? ownConfiguration : nil
        var interpreters: [(String, String)] = [(".cgi", "")]
        for (suffix, runtime) in [(".pl", LanguageRuntime.perl), (".tcl", .tcl), (".py", .python), (".rb", .ruby)] {
            if let found = runtimes.find(runtime) { interpreters.append((suffix, found.path)) }
        }
        var program = try lighttpd(root: root, port: port, replica: replica, write: write, handlers: .cgi(interpreters, include: includes))
        program.environment = (try? runtimeEnvironment()) ?? [:]
        return program
    }

    /// What lighttpd hands scripts to: PHP over FastCGI, or CGI programs.
    enum LighttpdHandlers {
        case php(phpCGI: String)
        case cgi([(suffix: String, interpreter: String)], include: String?)
    }

    func lighttpd(root: String, port: Int, replica: Int, write: Bool, handlers: LighttpdHandlers) throws(KilnError) -> Program {
        let lighttpd = try hostProgram("lighttpd", package: "lighttpd", in: ["/usr/sbin", "/usr/bin"])
        let configuration = "lighttpd-\(replica).conf"
        if write {
            let handlerConfiguration: String
            switch handlers {
            case .php(let phpCGI):
                let socket = try socketFolder() + "/php-\(replica).sock"
                handlerConfiguration = Self.fastCGIConfiguration(phpCGI: phpCGI, socket: socket)
            case .cgi(let interpreters, let include):
                handlerConfiguration = Self.cgiConfiguration(interpreters, include: include)
            }
            try writeFile(configuration, lighttpdConfiguration(root: root, port: port, replica: replica, handlers: handlerConfiguration))
        }
        return (lighttpd, ["-D", "-f", generatedFolderPath + "/" + configuration] + spec.extraArguments, home, [:])
    }

    func pythonAppDirectory() throws(KilnError) -> String {
        for directory in [home + "/www/python/src", home] where try toolCan({ FileManager.default.fileExists(atPath: directory + "/app.py") }) {
            return directory
        }
        throw missing("app.py", "a \(spec.type.name) webservice needs app.py exposing `app` (a WSGI app such as Flask's), in the tool's home or www/python/src/")
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
            .unavailable, "this host cannot run \(spec.type.name) webservices: \(name) is not installed (Debian package \(package))",
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

    /// lighttpd serving `public_html` at `/` and at `/TOOL/`, scripts by `handlers`.
    func lighttpdConfiguration(root: String, port: Int, replica: Int, handlers: String) -> String {
        """
            # Written by Kiln for \(tool.rawValue)'s \(spec.type.name) webservice, replica \(replica): regenerated at every start.
            server.modules = ("mod_access", "mod_alias", "mod_fastcgi", "mod_cgi")
            server.document-root = "\(root)"
            server.bind = "\(bindAddress)"
            server.port = \(port)
            server.tag = "lighttpd"
            index-file.names = ("index.php", "index.html", "index.htm", "index.pl", "index.cgi")
            static-file.exclude-extensions = (".php", ".pl", ".cgi", ".tcl", ".py", ".rb")
            alias.url = ("\(pathPrefix)/" => "\(root)/")
            mimetype.assign = (
              ".html" => "text/html; charset=utf-8", ".htm" => "text/html; charset=utf-8",
              ".css" => "text/css", ".js" => "text/javascript", ".json" => "application/json",
              ".png" => "image/png", ".jpg" => "image/jpeg", ".gif" => "image/gif", ".svg" => "image/svg+xml",
              ".txt" => "text/plain; charset=utf-8", "" => "application/octet-stream"
            )
            \(handlers)
            """
    }

    static func fastCGIConfiguration(phpCGI: String, socket: String) -> String {
        """
        fastcgi.server = (".php" => ((
          "bin-path" => "\(phpCGI)",
          "socket" => "\(socket)",
          "max-procs" => 1,
          "bin-environment" => ("PHP_FCGI_CHILDREN" => "2", "PHP_FCGI_MAX_REQUESTS" => "500"),
          "broken-scriptfilename" => "enable"
        )))

        """
    }

    /// CGI by suffix; the tool's `.lighttpd.conf` last, so what it sets wins (it is read by
    /// lighttpd running as the tool, never by the platform).
    static func cgiConfiguration(_ interpreters: [(suffix: String, interpreter: String)], include: String?) -> String {
        var text = "cgi.assign = (" + interpreters.map { "\"\($0.suffix)\" => \"\($0.interpreter)\"" }.joined(separator: ", ") + ")\n"
        if let include { text += "include \"\(include)\"\n" }
        return text
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
