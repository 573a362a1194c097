/// A language runtime the host may have, named by what tools ask for: jobs' images and
/// webservices' types each resolve to one, and run on the host's program of it.
public enum LanguageRuntime: String, Sendable, Hashable, Codable, CaseIterable {
    case python, php, node, java, golang, ruby, perl, tcl, mono, debian, mariadb

    /// The program that tells whether this host has the runtime.
    public var program: String {
        switch self {
        case .python: "python3"
        case .php: "php"
        case .node: "node"
        case .java: "java"
        case .golang: "go"
        case .ruby: "ruby"
        case .perl: "perl"
        case .tcl: "tclsh"
        case .mono: "mono"
        case .debian: "sh"
        case .mariadb: "mariadb"
        }
    }

    /// The Debian package that brings the program, for the message when it is missing.
    public var debianPackage: String {
        switch self {
        case .python: "python3"
        case .php: "php-cli"
        case .node: "nodejs"
        case .java: "default-jre-headless"
        case .golang: "golang-go"
        case .ruby: "ruby"
        case .perl: "perl"
        case .tcl: "tcl"
        case .mono: "mono-runtime"
        case .debian: "dash"
        case .mariadb: "mariadb-client"
        }
    }
}
