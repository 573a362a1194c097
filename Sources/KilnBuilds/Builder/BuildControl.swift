import KilnCore
import KilnRunner

/// What the API asks of the build service, for one tool at a time (the caller's own).
public protocol BuildControl: Sendable {
    /// Records and starts a build; returns at once (the build goes on; `logs -f` follows it).
    func start(tool: ToolName, parameters: BuildParameters) async throws(KilnError) -> BuildRecord
    /// The tool's builds, newest first.
    func builds(of tool: ToolName) async throws(KilnError) -> [BuildRecord]
    func build(of tool: ToolName, number: Int) async throws(KilnError) -> BuildRecord
    /// Stops a build under way (its processes killed, its partial image removed).
    func cancel(tool: ToolName, number: Int) async throws(KilnError) -> BuildRecord
    /// Removes ended builds' records and logs (one, or all when `number` is nil); images stay.
    func delete(tool: ToolName, number: Int?) async throws(KilnError) -> [BuildRecord]
    /// Removes every image of the tool's (`build clean`).
    func clean(tool: ToolName) async throws(KilnError) -> [ImageManifest]
    func images(of tool: ToolName) async throws(KilnError) -> [ImageManifest]
    func quota(of tool: ToolName) async throws(KilnError) -> BuildQuotaReport
    /// The build's log, in the tool's build folder.
    func log(tool: ToolName, number: Int) async throws(KilnError) -> LogFile
    /// A tool being deleted: its builds are cancelled, its images and build folder removed.
    func forget(_ tool: Tool) async throws(KilnError)
}

/// `build quota`: the limits and what the tool uses of them.
public struct BuildQuotaReport: Sendable, Hashable, Codable {
    public var quota: BuildQuotaLimits
    public var images: Int
    public var imageBytes: Int64
    public var builds: Int

    public init(quota: BuildQuotaLimits, images: Int, imageBytes: Int64, builds: Int) {
        self.quota = quota
        self.images = images
        self.imageBytes = imageBytes
        self.builds = builds
    }
}

/// The quota in plain numbers, for JSON.
public struct BuildQuotaLimits: Sendable, Hashable, Codable {
    public var seconds: Int64
    public var memory: String
    public var cpu: String
    public var imageBytes: Int64
    /// Optional: a server from before the disk quota sends none.
    public var diskBytes: Int64?
    public var imagesKept: Int
    public var buildsKept: Int

    public init(_ quota: BuildQuota) {
        seconds = quota.duration.components.seconds
        memory = quota.memory.description
        cpu = quota.cpu.description
        imageBytes = quota.imageBytes
        diskBytes = quota.diskBytes
        imagesKept = quota.imagesKept
        buildsKept = quota.buildsKept
    }
}
