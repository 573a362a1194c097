/// An image a tool built from its repository, as `jobs.yaml`, `--image` and `buildservice-image`
/// name it: `tool-TOOL/NAME:TAG`, where TAG is `latest` (the newest build) or the number of one
/// of the earlier builds still kept.
public struct BuiltImageName: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Tag: Sendable, Hashable {
        case latest
        case number(Int)
    }

    public var tool: ToolName
    /// The image's own name (`--image-name`; the tool's name when not given).
    public var name: String
    public var tag: Tag

    public static let maximumNameLength = 63
    /// More builds than any quota keeps; a tag past it is refused before it reaches a query.
    public static let maximumTagNumber = 1_000_000_000

    public init(tool: ToolName, name: String, tag: Tag = .latest) throws(KilnError) {
        if let problem = Self.problem(withName: name) {
            throw KilnError(.badRequest, "invalid image name '\(name)': \(problem)", context: ["field": "image-name", "value": name])
        }
        self.tool = tool
        self.name = name
        self.tag = tag
    }

    /// Whether `text` names a tool's own image rather than one of the platform's (`python3.11`).
    public static func isBuiltImage(_ text: String) -> Bool {
        let trimmed = text.trimmingWhitespace()
        return trimmed.hasPrefix("tool-") && trimmed.contains("/")
    }

    /// Reads `tool-TOOL/NAME[:TAG]` (no tag means `latest`, as a container registry reads it).
    public init(parsing text: String) throws(KilnError) {
        let trimmed = text.trimmingWhitespace()
        func invalid(_ why: String) -> KilnError {
            KilnError(.badRequest, "invalid image '\(trimmed)': \(why); a tool's image is tool-TOOL/NAME:latest", context: ["field": "image", "value": trimmed])
        }
        guard trimmed.hasPrefix("tool-"), let slash = trimmed.firstIndex(of: "/") else { throw invalid("it does not start with tool-TOOL/") }
        let toolText = String(trimmed[trimmed.index(trimmed.startIndex, offsetBy: 5)..<slash])
        let rest = trimmed[trimmed.index(after: slash)...]
        let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let tag: Tag
        if parts.count == 2 {
            let tagText = String(parts[1])
            if tagText == "latest" {
                tag = .latest
            } else if !tagText.isEmpty, tagText.utf8.count <= 10, tagText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let number = Int(tagText), number >= 1, number <= Self.maximumTagNumber
            {
                tag = .number(number)
            } else {
                throw invalid("the tag '\(tagText)' is neither 'latest' nor the number of a build")
            }
        } else {
            tag = .latest
        }
        guard let tool = try? ToolName(toolText) else { throw invalid("'\(toolText)' is not a tool name") }
        if let problem = Self.problem(withName: String(parts[0])) { throw invalid(problem) }
        self.tool = tool
        self.name = String(parts[0])
        self.tag = tag
    }

    /// Why `name` cannot name an image (a folder of the image store, a path segment), or nil.
    public static func problem(withName name: String) -> String? {
        let bytes = Array(name.utf8)
        guard let first = bytes.first else { return "the image's name is empty" }
        if bytes.count > maximumNameLength { return "the image's name is longer than \(maximumNameLength) characters" }
        func isAlphanumeric(_ byte: UInt8) -> Bool { (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) }
        guard isAlphanumeric(first), let last = bytes.last, isAlphanumeric(last) else {
            return "the image's name must start and end with a lower-case letter or a digit"
        }
        guard bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }) else {
            return "only lower-case letters, digits, '-', '_' and '.' are allowed in the image's name"
        }
        return nil
    }

    /// The repository part, `tool-TOOL/NAME`.
    public var repository: String { "tool-\(tool.rawValue)/\(name)" }

    public var description: String {
        switch tag {
        case .latest: "\(repository):latest"
        case .number(let number): "\(repository):\(number)"
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
