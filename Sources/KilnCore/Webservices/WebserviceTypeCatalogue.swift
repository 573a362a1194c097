/// Every webservice type Toolforge has offered, current and retired (the Kubernetes images from
/// stretch to bookworm, and the grid engine's `lighttpd`, `uwsgi-python`… types), each mapped onto
/// what this platform starts. Users' service.template files carry all of these names.
public struct WebserviceTypeCatalogue: Sendable, Hashable {
    public var types: [WebserviceType]

    public init(types: [WebserviceType]) { self.types = types }

    public static let standard: WebserviceTypeCatalogue = {
        typealias T = WebserviceType
        func family(_ prefix: String, _ family: T.Family, _ runtime: LanguageRuntime, current: [String], retired: [String]) -> [T] {
            retired.map { T(name: prefix + $0, family: family, runtime: runtime, version: $0, retired: true) }
                + current.map { T(name: prefix + $0, family: family, runtime: runtime, version: $0) }
        }
        var types: [T] = []
        types += family("python", .python, .python, current: ["3.11", "3.13"], retired: ["3.5", "3.7", "3.9"])
        types += [
            T(name: "python", family: .python, runtime: .python, version: "3.4", retired: true),
            T(name: "python2", family: .python, runtime: .python, version: "2", retired: true),
            T(name: "uwsgi-python", family: .python, runtime: .python, retired: true),
        ]
        types += family("php", .php, .php, current: ["8.2", "8.4"], retired: ["5.6", "7.2", "7.3", "7.4"])
        types += [T(name: "lighttpd", family: .php, runtime: .php, retired: true)]
        types += family("node", .node, .node, current: ["18", "20", "22"], retired: ["6", "10", "12", "16"])
        types += [T(name: "nodejs", family: .node, runtime: .node, version: "6", retired: true)]
        types += family("jdk", .command, .java, current: ["17", "21"], retired: ["8", "11"])
        types += family("golang", .command, .golang, current: ["1.19", "1.21", "1.22", "1.23", "1.24"], retired: ["", "111"])
        types += family("ruby", .command, .ruby, current: ["3.1", "3.3"], retired: ["2", "21", "25", "27", "2.7"])
        types += family("perl", .command, .perl, current: ["5.36", "5.40"], retired: ["5.32"])
        types += family("tcl", .command, .tcl, current: ["8.6"], retired: [""])
        types += [
            T(name: "bookworm", family: .command, runtime: .debian, version: "12"),
            T(name: "bullseye", family: .command, runtime: .debian, version: "11", retired: true),
            T(name: "buster", family: .command, runtime: .debian, version: "10", retired: true),
            T(name: "lighttpd-plain", family: .lighttpdPlain, runtime: nil, retired: true),
            T(name: "uwsgi-plain", family: .uwsgiPlain, runtime: nil, retired: true),
            T(name: "generic", family: .command, runtime: nil),
            T(name: "static", family: .staticFiles, runtime: nil),
            T(name: "buildservice", family: .buildservice, runtime: nil),
        ]
        return WebserviceTypeCatalogue(types: types.map { type in
            // `golang` and `tcl` alone carry no version.
            var type = type
            if type.version == "" { type.version = nil }
            return type
        })
    }()

    /// The type named `text`; an unknown name is an error that says what is valid.
    public func resolve(_ text: String) throws(KilnError) -> WebserviceType {
        let name = text.trimmingWhitespace()
        guard let type = types.first(where: { $0.name == name }) else {
            throw KilnError(
                .invalidWebservice,
                "unknown webservice type '\(name)'; the types are: \(currentNames) (retired names such as python3.9 or lighttpd are accepted too)",
                context: ["field": "type", "value": name])
        }
        return type
    }

    /// A type the catalogue is known to hold (the names Kiln's own code uses).
    func named(_ name: String) -> WebserviceType {
        guard let type = types.first(where: { $0.name == name }) else { preconditionFailure("no webservice type '\(name)' in the catalogue") }
        return type
    }

    /// The newest current type of the same family and runtime, for retirement warnings.
    public func current(like type: WebserviceType) -> WebserviceType? {
        types.last { $0.family == type.family && $0.runtime == type.runtime && !$0.retired }
    }

    var currentNames: String {
        types.filter { !$0.retired }.map(\.name).joined(separator: ", ")
    }
}
