/// What a build's folders held on disk at one measurement, in allocated bytes (a sparse file
/// counts what it uses, not its length), and what a build past its disk quota is told.
public struct BuildDiskUse: Sendable, Hashable {
    /// The image being built (`DATA/images/TOOL/NAME/N`: the clone, dependencies, compiled code).
    public var image: Int64
    /// The tool's dependency cache (`DATA/builds/TOOL/cache`), kept between builds.
    public var cache: Int64
    /// The build's log.
    public var log: Int64

    public init(image: Int64, cache: Int64, log: Int64) {
        self.image = image
        self.cache = cache
        self.log = log
    }

    public var total: Int64 { [image, cache, log].reduce(0) { Self.sum($0, $1) } }

    public func exceeds(_ quota: Int64) -> Bool { total > quota }

    /// "more disk than the build's quota (4 GiB): the build's folders held 4.2 GiB (…)": said
    /// after the step (`step 'compile' used …`), with each folder's part, so a tool whose cache
    /// has grown sees it is the cache.
    public func overQuota(_ quota: Int64) -> String {
        "more disk than the build's quota (\(Self.shown(quota))): the build's folders held \(Self.shown(total)) "
            + "(the image \(Self.shown(image)), the dependency cache \(Self.shown(cache)), the log \(Self.shown(log)))"
    }

    /// Bytes for people: `4 GiB`, `4.2 GiB`, `512 KiB`, `100 B`. Tenths are rounded up, so a
    /// use just past a quota never reads as the quota itself.
    public static func shown(_ bytes: Int64) -> String {
        guard bytes >= 1024 else { return "\(max(0, bytes)) B" }
        var unit: Int64 = 1024
        var names = ["KiB", "MiB", "GiB", "TiB"][...]
        while names.count > 1, bytes / unit >= 1024 {
            unit *= 1024
            names = names.dropFirst()
        }
        // In integers: `bytes * 10` could overflow where the remainder's tenths cannot.
        let remainderTenths = ((bytes % unit) * 10 + unit - 1) / unit
        let tenths = bytes / unit * 10 + remainderTenths
        let name = names.first ?? "TiB"
        return tenths % 10 == 0 ? "\(tenths / 10) \(name)" : "\(tenths / 10).\(tenths % 10) \(name)"
    }

    /// A sum that stops at the largest value rather than trapping.
    static func sum(_ a: Int64, _ b: Int64) -> Int64 {
        let (result, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : result
    }
}
