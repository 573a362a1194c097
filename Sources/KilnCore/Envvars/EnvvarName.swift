/// The name of a tool's environment variable (`toolforge envvars`): what Toolforge allows,
/// `[A-Z_][A-Z0-9_]*`, but not the platform's own (`TOOL_*`, `KILN_*`) nor the names it sets for
/// every process of a tool (its identity and port), which a tool's value must not replace.
public struct EnvvarName: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let maximumLength = 255
    /// Set by the platform for every job and webservice: never the tool's to choose.
    public static let reserved: Set<String> = ["HOME", "USER", "LOGNAME", "PORT", "JOB_NAME"]
    public static let reservedPrefixes = ["TOOL_", "KILN_"]

    public let rawValue: String

    public init(_ rawValue: String) throws(KilnError) {
        if let problem = Self.problem(with: rawValue) {
            throw KilnError(.invalidName, "invalid envvar name '\(rawValue)': \(problem)", context: ["name": rawValue])
        }
        self.rawValue = rawValue
    }

    /// Why `name` cannot be an envvar's name, or nil when it can.
    public static func problem(with name: String) -> String? {
        let bytes = Array(name.utf8)
        guard let first = bytes.first else { return "it is empty" }
        if bytes.count > maximumLength { return "it is longer than \(maximumLength) characters" }
        func isUpper(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") }
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        guard isUpper(first) || first == UInt8(ascii: "_") else { return "it must start with an upper-case letter or '_'" }
        for byte in bytes where !(isUpper(byte) || isDigit(byte) || byte == UInt8(ascii: "_")) {
            return "only upper-case letters, digits and '_' are allowed"
        }
        if let prefix = reservedPrefixes.first(where: { name.hasPrefix($0) }) { return "names beginning \(prefix) are the platform's" }
        if reserved.contains(name) { return "the platform sets \(name) for every job and webservice" }
        return nil
    }

    public var description: String { rawValue }

    public static func < (lhs: EnvvarName, rhs: EnvvarName) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What a tool may keep as envvars.
public enum EnvvarLimits {
    /// Envvars per tool (Toolforge's default quota).
    public static let quota = 100
    /// Bytes of one value.
    public static let maximumValueBytes = 4096

    /// Why `value` cannot be an envvar's value, or nil.
    public static func problem(withValue value: String) -> String? {
        if value.utf8.count > maximumValueBytes { return "it is longer than \(maximumValueBytes) bytes" }
        // An environment string ends at its first NUL: the process would see another value.
        if value.utf8.contains(0) { return "it contains a NUL byte" }
        return nil
    }
}
