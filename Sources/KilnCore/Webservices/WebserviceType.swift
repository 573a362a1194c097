/// The kinds of web server the platform knows how to start for a tool, by the names Toolforge
/// users type (`webservice python3.11 start`).
public enum WebserviceType: String, Sendable, Hashable, Codable, CaseIterable {
    /// A WSGI app (`app.py` exposing `app`, or `www/python/src/app.py`) under gunicorn, from the
    /// tool's own virtualenv when it has one.
    case python311 = "python3.11"
    /// `public_html/` with PHP by php-cgi behind lighttpd's FastCGI.
    case php82 = "php8.2"
    /// `npm start` in `www/js`, with the host's node.
    case node18 = "node18"
    /// `public_html/` served by Kiln itself.
    case staticFiles = "static"
    /// Any program that listens on `$PORT` (`--command`).
    case generic = "generic"

    /// What each type runs, for `kiln webservice types`.
    public var summary: String {
        switch self {
        case .python311: "Python WSGI app (app.py exposing `app`, or www/python/src/app.py) under gunicorn"
        case .php82: "PHP pages in public_html/ (php-cgi behind lighttpd)"
        case .node18: "Node.js: `npm start` in www/js"
        case .staticFiles: "static files in public_html/, served by Kiln"
        case .generic: "any command (--command) that listens on $PORT"
        }
    }

    /// Parses a type name; an unknown one gets the list of valid names in its error.
    public init(parsing text: String) throws(KilnError) {
        guard let type = WebserviceType(rawValue: text) ?? Self.aliases[text] else {
            throw KilnError(
                .invalidWebservice,
                "unknown webservice type '\(text)'; the types are: \(Self.allCases.map(\.rawValue).joined(separator: ", "))",
                context: ["field": "type", "value": text])
        }
        self = type
    }

    /// Names still found in users' service.template files, mapped to the runtime the host has.
    static let aliases: [String: WebserviceType] = [
        "python3.9": .python311, "python3.13": .python311, "python": .python311,
        "php7.4": .php82, "php8.4": .php82, "php": .php82,
        "node": .node18, "node12": .node18, "node16": .node18, "node20": .node18,
    ]
}
