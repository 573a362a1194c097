import Foundation
import KilnBuilds
import KilnCore
import KilnTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The walk that holds a build to its disk quota, over folders as a build could leave them:
/// nested files, links out to big files and folders, hard links, sparse files. Each figure is
/// checked against `du`, which counts as the quota means to (allocated blocks, links not
/// followed, a file of several names once).
@Suite struct FolderUsageTests {
    let root: String

    init() throws {
        root = try makeTemporaryDirectory(prefix: "kfu")
        try FileManager.default.createDirectory(atPath: root + "/build/a/b/c", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/outside", withIntermediateDirectories: true)
    }

    /// A file of `bytes` written (not sparse): each of its blocks allocated.
    func file(_ relative: String, bytes: Int) throws {
        try Data(repeating: 7, count: bytes).write(to: URL(fileURLWithPath: root + "/" + relative))
    }

    func measured(_ components: [String] = ["build"]) throws -> FolderUsage {
        var usage = FolderUsage()
        try usage.add(components, below: root)
        return usage
    }

    /// `du`'s figure in bytes, for the same tree.
    func du(_ relative: String = "build") throws -> Int64 {
        let result = try runCommand("/usr/bin/du", ["-s", "-B1", root + "/" + relative])
        guard result.status == 0, let figure = result.standardOutput.split(separator: "\t").first.flatMap({ Int64($0) }) else {
            throw TestFailure("du: \(result)")
        }
        return figure
    }

    func clean() { _ = try? FileManager.default.removeItem(atPath: root) }

    @Test func nestedFilesAreAllCounted() throws {
        defer { clean() }
        try file("build/top", bytes: 100_000)
        try file("build/a/b/c/deep", bytes: 300_000)
        try file("build/a/middle", bytes: 50_000)
        let usage = try measured()
        #expect(usage.bytes >= 450_000, "\(usage.bytes)")
        #expect(usage.bytes == (try du()), "\(usage.bytes)")
        // The folder, three below it, three files.
        #expect(usage.entries == 7)
    }

    @Test func linksOutAreNotFollowed() throws {
        defer { clean() }
        try file("outside/big", bytes: 8 << 20)
        try file("outside/nested", bytes: 8 << 20)
        try file("build/small", bytes: 10_000)
        #expect(symlink(root + "/outside/big", root + "/build/to-big") == 0)
        #expect(symlink(root + "/outside", root + "/build/a/to-folder") == 0)
        let usage = try measured()
        #expect(usage.bytes < 1 << 20, "\(usage.bytes)")
        #expect(usage.bytes == (try du()), "\(usage.bytes)")
        // A link on the way to what is measured is not followed either.
        #expect(symlink(root + "/outside", root + "/swapped") == 0)
        #expect(try measured(["swapped", "big"]).bytes == 0)
        #expect(try measured(["swapped"]).bytes < 1 << 20)
    }

    @Test func aFileOfSeveralNamesCountsOnce() throws {
        defer { clean() }
        try file("build/one", bytes: 1 << 20)
        #expect(link(root + "/build/one", root + "/build/a/two") == 0)
        #expect(link(root + "/build/one", root + "/build/a/b/three") == 0)
        let usage = try measured()
        #expect(usage.bytes >= 1 << 20 && usage.bytes < 3 << 19, "\(usage.bytes)")
        #expect(usage.bytes == (try du()), "\(usage.bytes)")
    }

    @Test func aSparseFileCountsWhatItUses() throws {
        defer { clean() }
        let descriptor = open(root + "/build/sparse", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        #expect(descriptor >= 0)
        #expect(ftruncate(descriptor, 1 << 30) == 0)
        #expect(pwrite(descriptor, "x", 1, 1 << 29) == 1)
        close(descriptor)
        let usage = try measured()
        #expect(usage.bytes < 1 << 20, "\(usage.bytes)")
        #expect(usage.bytes == (try du()), "\(usage.bytes)")
    }

    @Test func aMissingFolderHoldsNothing() throws {
        defer { clean() }
        #expect(try measured(["nowhere"]).bytes == 0)
        #expect(try measured(["build", "nowhere", "log"]).bytes == 0)
    }

    @Test func aFolderTooDeepFailsTheWalk() throws {
        defer { clean() }
        let deep = root + "/build/" + Array(repeating: "d", count: FolderUsage.maximumDepth + 2).joined(separator: "/")
        try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
        let error = #expect(throws: KilnError.self) { try measured() }
        #expect(error?.message.contains("nested too deep") == true, "\(String(describing: error))")
    }
}
