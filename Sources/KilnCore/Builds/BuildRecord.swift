import Foundation

/// One build of a tool's, as the store keeps it and `build show` reports it.
public struct BuildRecord: Sendable, Hashable, Codable {
    public var tool: ToolName
    /// The tool's builds are numbered from 1; the number is the image's numbered tag.
    public var number: Int
    public var parameters: BuildParameters
    public var lifecycle: BuildLifecycle
    public var createdAt: Date
    public var startedAt: Date?
    public var endedAt: Date?
    /// The image's digest, once exported.
    public var digest: String?

    public init(tool: ToolName, number: Int, parameters: BuildParameters, createdAt: Date) {
        self.tool = tool
        self.number = number
        self.parameters = parameters
        self.lifecycle = .pending
        self.createdAt = createdAt
    }

    /// `TOOL-build-N`, as `build logs` and `build show` take it.
    public var id: String { Self.id(tool: tool, number: number) }

    public static func id(tool: ToolName, number: Int) -> String { "\(tool.rawValue)-build-\(number)" }

    /// The number in a build id of `tool`'s (`TOOL-build-N` or `N`); an id of another tool's, or
    /// no id, is nil.
    public static func number(in id: String, of tool: ToolName) -> Int? {
        let trimmed = id.trimmingWhitespace()
        let prefix = "\(tool.rawValue)-build-"
        let digits = trimmed.hasPrefix(prefix) ? String(trimmed.dropFirst(prefix.count)) : trimmed
        guard !digits.isEmpty, digits.utf8.count <= 9, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let number = Int(digits), number >= 1
        else { return nil }
        return number
    }

    /// The image this build makes (or made).
    public var image: String { "tool-\(tool.rawValue)/\(parameters.imageName):latest" }
}

/// What `build start` asked for.
public struct BuildParameters: Sendable, Hashable, Codable {
    /// A git URL (https, git, ssh), a `file://` URL or a local path the tool can read.
    public var sourceURL: String
    public var ref: String?
    public var imageName: String
    /// `-e NAME=VALUE`: set for the build's commands (not the image's processes).
    public var environment: [String: String]
    /// `-L`: dependencies resolved afresh, the dependency caches left aside.
    public var useLatestVersions: Bool

    public static let maximumSourceLength = 2048
    public static let maximumRefLength = 255
    public static let maximumEnvironment = 64
    public static let maximumValueLength = 4096

    public init(sourceURL: String, ref: String?, imageName: String, environment: [String: String], useLatestVersions: Bool) throws(KilnError) {
        func invalid(_ field: String, _ why: String) -> KilnError {
            KilnError(.badRequest, "\(field): \(why)", context: ["field": field])
        }
        let source = sourceURL.trimmingWhitespace()
        guard !source.isEmpty else { throw invalid("source_url", "no repository given") }
        guard source.utf8.count <= Self.maximumSourceLength else { throw invalid("source_url", "longer than \(Self.maximumSourceLength) bytes") }
        guard !source.hasPrefix("-"), !source.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
            throw invalid("source_url", "'\(source)' is not a repository URL or path")
        }
        if let ref {
            // A ref is a branch, tag or commit: never an option to git, never a path outside refs.
            guard !ref.isEmpty, ref.utf8.count <= Self.maximumRefLength, !ref.hasPrefix("-"), !ref.contains(".."),
                ref.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7f && $0 != UInt8(ascii: "~") && $0 != UInt8(ascii: "^") && $0 != UInt8(ascii: ":") && $0 != UInt8(ascii: "\\") })
            else { throw invalid("ref", "'\(ref)' is not a branch, tag or commit") }
        }
        if let problem = BuiltImageName.problem(withName: imageName) { throw invalid("image_name", problem) }
        guard environment.count <= Self.maximumEnvironment else { throw invalid("envvars", "more than \(Self.maximumEnvironment) variables") }
        for (name, value) in environment {
            guard (try? EnvvarName(name)) != nil else { throw invalid("envvars", "'\(name)' is not a variable name") }
            guard value.utf8.count <= Self.maximumValueLength, !value.utf8.contains(0) else {
                throw invalid("envvars", "the value of \(name) is longer than \(Self.maximumValueLength) bytes or holds a NUL")
            }
        }
        self.sourceURL = source
        self.ref = ref
        self.imageName = imageName
        self.environment = environment
        self.useLatestVersions = useLatestVersions
    }
}
