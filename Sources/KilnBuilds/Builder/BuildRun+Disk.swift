import Foundation
import KilnCore

/// A build's disk, bounded while it runs. These hosts have no filesystem quotas, and the image's
/// own quota is checked only at export: until then a step (a huge `pip install`, a `dd` in a
/// build script, an npm cache) could fill the host's disk. So the folders a build writes are
/// measured while each step's program runs, and no file it writes may grow past the quota.
extension BuildRun {
    /// The image being built, at its final place.
    var imageFolder: String { configuration.images.folder(of: record.tool, name: record.parameters.imageName, tag: record.number) }

    static let cachePath = HomePath(platform: "cache")

    /// What the build's folders hold now, in one walk (a file linked into two counts once).
    func diskUse() throws(KilnError) -> BuildDiskUse {
        var usage = FolderUsage()
        try usage.add([(imageFolder as NSString).lastPathComponent], below: (imageFolder as NSString).deletingLastPathComponent)
        let image = usage.bytes
        try usage.add(Self.cachePath.components, below: work.path)
        let cache = usage.bytes - image
        try usage.add(logPath.components, below: work.path)
        return BuildDiskUse(image: image, cache: cache, log: usage.bytes - image - cache)
    }

    /// Why the build must stop for its disk, if it must: its folders past the quota, or folders
    /// the platform cannot measure (as root it reads everything, so that is not passed over).
    func diskCheck() -> Stop? {
        do {
            let use = try diskUse()
            return use.exceeds(configuration.quota.diskBytes) ? .overDisk(use) : nil
        } catch {
            return .failed("cannot measure what the build's folders hold: \(error.message)")
        }
    }

    /// Measures the build's folders every `diskCheckInterval` until they must stop the build
    /// (returned), or until cancelled (nil). A tree whose walk takes long is measured less often:
    /// the walks take at most a fifth of the time.
    func watchDisk() async -> Stop? {
        let interval = configuration.diskCheckInterval
        var pause = interval
        while true {
            do {
                try await Task.sleep(for: pause)
            } catch {
                return nil
            }
            let start = ContinuousClock.now
            if let stop = diskCheck() { return stop }
            pause = max(interval, (ContinuousClock.now - start) * 4)
        }
    }

    /// The program run under util-linux's `prlimit`, which sets RLIMIT_FSIZE (soft and hard, as
    /// the tool: lowering needs no privilege) to the disk quota before it executes the program:
    /// no single file the step writes, even one outside the build's folders or unlinked while
    /// open (which no walk sees), grows past the quota between two measurements. Without
    /// `prlimit` (util-linux is essential on Debian) the measurements alone bound the build.
    func limitingFileSize(_ program: String, _ arguments: [String]) -> (program: String, arguments: [String]) {
        guard FileManager.default.isExecutableFile(atPath: Self.prlimit) else { return (program, arguments) }
        return (Self.prlimit, ["--fsize=\(configuration.quota.diskBytes)", "--", program] + arguments)
    }

    static let prlimit = "/usr/bin/prlimit"
}
