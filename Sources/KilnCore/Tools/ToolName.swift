/// The name of a tool account. It is a DNS label, because it becomes a host name
/// (`TOOL.DOMAIN`) and the first segment of a path (`/TOOL/`).
public struct ToolName: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public static let maximumLength = 32

    public let rawValue: String

    /// Validates `rawValue`; the error names the rule that was broken.
    public init(_ rawValue: String) throws(KilnError) {
        if let problem = Self.problem(with: rawValue) {
            throw KilnError(
                .invalidName,
                "invalid tool name '\(rawValue)': \(problem)",
                context: ["name": rawValue]
            )
        }
        self.rawValue = rawValue
    }

    /// Why `name` is not a tool name, or nil when it is one.
    public static func problem(with name: String) -> String? {
        let bytes = Array(name.utf8)
        guard let first = bytes.first else { return "it is empty" }
        if bytes.count > maximumLength { return "it is longer than \(maximumLength) characters" }
        guard isLowerLetter(first) else { return "it must start with a lower-case letter" }
        for byte in bytes where !(isLowerLetter(byte) || isDigit(byte) || byte == UInt8(ascii: "-")) {
            return "only lower-case letters, digits and '-' are allowed"
        }
        if bytes.last == UInt8(ascii: "-") { return "it must not end with '-'" }
        return nil
    }

    public var description: String { rawValue }

    public static func < (lhs: ToolName, rhs: ToolName) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        do {
            try self.init(raw)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    private static func isLowerLetter(_ byte: UInt8) -> Bool { byte >= 97 && byte <= 122 }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
}
