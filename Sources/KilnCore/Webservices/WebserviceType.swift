/// A kind of web server the platform starts for a tool, by the names Toolforge users type
/// (`webservice python3.11 start`, `type: jdk17` in service.template). A name resolves, through
/// `WebserviceTypeCatalogue`, to a family (what is started: gunicorn, lighttpd, `npm start`, the
/// tool's own command) and the language runtime the host provides for it. Stored and sent as its
/// name alone.
public struct WebserviceType: Sendable, Hashable {
    /// What a type starts, whatever version its name carries.
    public enum Family: String, Sendable, Hashable, Codable, CaseIterable {
        /// A WSGI app (`www/python/src/app.py` exposing `app`) under gunicorn, from the tool's
        /// virtualenv (`www/python/venv`) when it has one (also the grid's `uwsgi-python`).
        case python
        /// `public_html/` with PHP by php-cgi behind lighttpd (also the grid's `lighttpd`).
        case php
        /// `npm start` in `www/js`.
        case node
        /// `public_html/` by lighttpd without PHP: static files and CGI scripts, plus the tool's
        /// own `.lighttpd.conf` (the grid's `lighttpd-plain`; perl and tcl without a command).
        case lighttpdPlain = "lighttpd-plain"
        /// The tool's `uwsgi.ini` under the host's uWSGI (the grid's `uwsgi-plain`).
        case uwsgiPlain = "uwsgi-plain"
        /// `public_html/` served by Kiln itself.
        case staticFiles = "static"
        /// The tool's own command (`extra_args`, or `--command`) listening on `$PORT`, with the
        /// type's runtime first on `PATH`: jdk, golang, ruby, perl, tcl, the Debian shells, generic.
        case command
        /// An image the tool built from its repository (`kiln build start`): its Procfile's `web`
        /// process (or `--command`), on `$PORT`, in the image's environment.
        case buildservice

        /// The server program the family starts (beside its runtime), when it is not the tool's own.
        public var serverProgram: String? {
            switch self {
            case .python: "gunicorn"
            case .php: "php-cgi"
            case .node: "npm"
            case .lighttpdPlain: "lighttpd"
            case .uwsgiPlain: "uwsgi"
            case .staticFiles, .command, .buildservice: nil
            }
        }
    }

    /// The name as users write it (`python3.11`, `golang111`, `lighttpd`).
    public var name: String
    public var family: Family
    /// The runtime the family's server or the tool's command needs; nil for Kiln's own server.
    public var runtime: LanguageRuntime?
    /// The version the name asks for (`3.11`, `17`); the host's may differ.
    public var version: String?
    /// Retired on Toolforge (or from the grid era): still accepted, with a warning.
    public var retired: Bool
    /// Whether a command (`extra_args` or `--command`) must be given: the server is the tool's own.
    public var needsCommand: Bool {
        switch family {
        case .command: runtime != .perl && runtime != .tcl
        case .python, .php, .node, .lighttpdPlain, .uwsgiPlain, .staticFiles, .buildservice: false
        }
    }

    public init(name: String, family: Family, runtime: LanguageRuntime?, version: String? = nil, retired: Bool = false) {
        self.name = name
        self.family = family
        self.runtime = runtime
        self.version = version
        self.retired = retired
    }

    /// Parses a type name; an unknown one gets the current names in its error.
    public init(parsing text: String) throws(KilnError) {
        self = try WebserviceTypeCatalogue.standard.resolve(text)
    }

    /// What the type runs, for `kiln webservice types`.
    public var summary: String {
        let language = runtime.map { " (\($0.rawValue))" } ?? ""
        switch family {
        case .python: return "WSGI app www/python/src/app.py under gunicorn (www/python/venv)"
        case .php: return "PHP pages in public_html/ (php-cgi behind lighttpd)"
        case .node: return "Node.js: `npm start` in www/js"
        case .lighttpdPlain: return "public_html/ by lighttpd: files, CGI, the tool's .lighttpd.conf"
        case .uwsgiPlain: return "the tool's uwsgi.ini under uWSGI"
        case .staticFiles: return "static files in public_html/, served by Kiln"
        case .command where needsCommand: return "the tool's command (extra_args) listening on $PORT\(language)"
        case .command: return "the tool's command (extra_args) on $PORT\(language), or public_html/ CGI by lighttpd"
        case .buildservice: return "the tool's own image (kiln build start): its Procfile's web process on $PORT"
        }
    }

    /// What `start` says when the name is retired.
    public var retirementWarning: String? {
        guard retired else { return nil }
        let current = WebserviceTypeCatalogue.standard.current(like: self).map { "; use '\($0.name)'" } ?? ""
        return "webservice type '\(name)' is retired: it runs on this host's \(runtime.map { "nearest \($0.rawValue) runtime" } ?? "server")\(current)"
    }
}

extension WebserviceType: Codable {
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try WebserviceTypeCatalogue.standard.resolve(name)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

extension WebserviceType {
    // The types Kiln has always had, by the names its code and tests use.
    public static var python311: WebserviceType { WebserviceTypeCatalogue.standard.named("python3.11") }
    public static var php82: WebserviceType { WebserviceTypeCatalogue.standard.named("php8.2") }
    public static var node18: WebserviceType { WebserviceTypeCatalogue.standard.named("node18") }
    public static var staticFiles: WebserviceType { WebserviceTypeCatalogue.standard.named("static") }
    public static var generic: WebserviceType { WebserviceTypeCatalogue.standard.named("generic") }
}
