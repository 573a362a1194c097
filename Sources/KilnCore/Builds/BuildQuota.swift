/// What one tool's builds may use: each build's time, memory, CPU and disk, and how many images
/// (of each name) are kept. A build past its time is stopped; one whose folders grow past its
/// disk quota is stopped while it runs, and an image past its own quota is refused at export; the
/// oldest numbered tags go when a new image would keep more than `imagesKept`.
public struct BuildQuota: Sendable, Hashable, Codable {
    public var duration: Duration
    public var memory: MemorySize
    public var cpu: CPUQuantity
    /// The largest image (the checkout, its dependencies, its compiled code).
    public var imageBytes: Int64
    /// What a build's folders may hold on disk while it runs: the image being built with its
    /// clone's history (dropped at export), the tool's dependency cache (kept between builds) and
    /// the build's log. A figure of its own, above `imageBytes`: the image alone is not all a
    /// build writes, and a build whose image is fine should not fail for its cache.
    public var diskBytes: Int64
    /// Images kept of each name, `latest` included.
    public var imagesKept: Int
    /// Build records kept (logs included); the oldest ended ones go first.
    public var buildsKept: Int

    public init(
        duration: Duration, memory: MemorySize, cpu: CPUQuantity, imageBytes: Int64, diskBytes: Int64, imagesKept: Int, buildsKept: Int
    ) {
        self.duration = duration
        self.memory = memory
        self.cpu = cpu
        self.imageBytes = imageBytes
        self.diskBytes = diskBytes
        self.imagesKept = imagesKept
        self.buildsKept = buildsKept
    }

    public static let standard = BuildQuota(
        duration: .seconds(30 * 60), memory: MemorySize(bytes: 2 << 30), cpu: CPUQuantity(millicores: 1000),
        imageBytes: 2 << 30, diskBytes: 4 << 30, imagesKept: 5, buildsKept: 50)
}
