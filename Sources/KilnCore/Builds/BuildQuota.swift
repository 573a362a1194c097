/// What one tool's builds may use: each build's time, memory, CPU and disk, and how many images
/// (of each name) are kept. A build past its time is stopped; one past its disk is refused at
/// export; the oldest numbered tags go when a new image would keep more than `imagesKept`.
public struct BuildQuota: Sendable, Hashable, Codable {
    public var duration: Duration
    public var memory: MemorySize
    public var cpu: CPUQuantity
    /// The largest image (the checkout, its dependencies, its compiled code).
    public var imageBytes: Int64
    /// Images kept of each name, `latest` included.
    public var imagesKept: Int
    /// Build records kept (logs included); the oldest ended ones go first.
    public var buildsKept: Int

    public init(duration: Duration, memory: MemorySize, cpu: CPUQuantity, imageBytes: Int64, imagesKept: Int, buildsKept: Int) {
        self.duration = duration
        self.memory = memory
        self.cpu = cpu
        self.imageBytes = imageBytes
        self.imagesKept = imagesKept
        self.buildsKept = buildsKept
    }

    public static let standard = BuildQuota(
        duration: .seconds(30 * 60), memory: MemorySize(bytes: 2 << 30), cpu: CPUQuantity(millicores: 1000),
        imageBytes: 2 << 30, imagesKept: 5, buildsKept: 50)
}
