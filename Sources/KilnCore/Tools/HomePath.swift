/// A path that a tool names (a log file, say), resolved inside the tool's home and nowhere else.
///
/// The check is lexical, on the words the tool wrote: a relative path is under the home, an
/// absolute one is accepted only when it is under the home (or under Toolforge's name for it,
/// `/data/project/TOOL`, so users' own files read unchanged), and `..` may not climb out of it.
/// What lies on disk (a symlink planted on the way) is the file layer's to refuse: it opens each
/// component without following links.
public struct HomePath: Sendable, Hashable, CustomStringConvertible {
    /// The components below the home, none of them empty, `.` or `..`.
    public let components: [String]

    /// The home itself.
    public static let home = HomePath(validComponents: [])

    /// Toolforge's home of `tool`, which users write in their jobs.yaml.
    public static func toolforgeHome(of tool: ToolName) -> String { "/data/project/" + tool.rawValue }

    init(validComponents: [String]) { components = validComponents }

    /// A path the platform itself names (`logs`, `web.out`): the components as given, less any
    /// that could not be one (empty, `.`, `..`, with a `/`).
    public init(platform components: String...) {
        self.components = components.filter { !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("/") }
    }

    /// This path with `name` below it.
    public func appending(_ name: String) -> HomePath {
        HomePath(validComponents: components + HomePath(platform: name).components)
    }

    /// Resolves `given` (as a tool wrote it for `field`) against the home at `home`.
    public init(resolving given: String, home: String, tool: ToolName, field: String) throws(KilnError) {
        func refuse(_ why: String) -> KilnError {
            KilnError(
                .badRequest, "\(field) '\(given)' \(why): give a path inside the tool's home (\(home))",
                context: ["field": field, "value": given])
        }
        guard !given.isEmpty, given.utf8.count <= Self.maximumLength else { throw refuse("is empty or too long") }
        guard !given.utf8.contains(0) else { throw refuse("contains a NUL byte") }
        var relative: Substring
        if given == "~" {
            relative = ""
        } else if given.hasPrefix("~/") {
            relative = given.dropFirst(2)
        } else if given.hasPrefix("/") {
            guard let below = Self.below(given, home) ?? Self.below(given, Self.toolforgeHome(of: tool)) else {
                throw refuse("is outside the tool's home")
            }
            relative = below
        } else {
            relative = Substring(given)
        }
        var components: [String] = []
        for component in relative.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..":
                guard !components.isEmpty else { throw refuse("leaves the tool's home") }
                components.removeLast()
            default: components.append(String(component))
            }
        }
        self.components = components
    }

    /// At most what a Linux path may be.
    public static let maximumLength = 4095

    /// What follows `root/` in `path`; nil when `path` is not under `root`.
    static func below(_ path: String, _ root: String) -> Substring? {
        let root = root.hasSuffix("/") ? String(root.dropLast()) : root
        if path == root { return "" }
        guard path.hasPrefix(root + "/") else { return nil }
        return path.dropFirst(root.count + 1)
    }

    /// The path below the home, `a/b.out` (empty for the home itself).
    public var relative: String { components.joined(separator: "/") }

    /// The path on this host, under `home`.
    public func absolute(in home: String) -> String { components.isEmpty ? home : home + "/" + relative }

    public var description: String { relative }
}
