import Foundation

/// What an image is, kept beside its files (`image.json`, the platform's, read-only) and in the
/// store: where it came from, what it holds (digest, size) and how it runs.
public struct ImageManifest: Sendable, Hashable, Codable {
    public var tool: ToolName
    public var name: String
    /// The build's number: the image's numbered tag.
    public var tag: Int
    public var buildID: String
    public var sourceURL: String
    public var ref: String?
    /// The commit built (`git rev-parse HEAD`).
    public var commit: String?
    public var createdAt: Date
    /// `sha256:` over every path, kind, mode and content of the sealed tree, in order.
    public var digest: String
    public var sizeBytes: Int64
    public var launch: ImageLaunch

    public init(
        tool: ToolName, name: String, tag: Int, buildID: String, sourceURL: String, ref: String?, commit: String?, createdAt: Date,
        digest: String, sizeBytes: Int64, launch: ImageLaunch
    ) {
        self.tool = tool
        self.name = name
        self.tag = tag
        self.buildID = buildID
        self.sourceURL = sourceURL
        self.ref = ref
        self.commit = commit
        self.createdAt = createdAt
        self.digest = digest
        self.sizeBytes = sizeBytes
        self.launch = launch
    }

    public var reference: String { "tool-\(tool.rawValue)/\(name):\(tag)" }
}
