import Foundation
import KilnCore
import KilnFiles
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A tool's home as a hostile tool leaves it: links, hard links, FIFOs, devices and others' files
/// planted where the platform reads and writes. Each is refused, and what it points at is left
/// as it was.
@Suite struct ConfinedDirectoryTests {
    let root: String
    let home: ConfinedDirectory
    /// A file of root's that a planted link points at.
    let target: String

    init() throws {
        root = NSTemporaryDirectory() + "/kiln-confined-\(UUID().uuidString)"
        let homePath = root + "/home"
        try FileManager.default.createDirectory(atPath: homePath, withIntermediateDirectories: true)
        // The tool's own user when the tests run as root, as the platform's tools have.
        let owner =
            geteuid() == 0 ? getpwnam("nobody").map { FileOwner(uid: $0.pointee.pw_uid, gid: $0.pointee.pw_gid) } ?? .process : .process
        chown(homePath, owner.uid, owner.gid)
        home = ConfinedDirectory(path: homePath, owner: owner)
        target = root + "/target"
        try "untouched\n".write(toFile: target, atomically: true, encoding: .utf8)
    }

    func at(_ relative: String) -> String { home.path + "/" + relative }

    func plantLink(_ relative: String, to destination: String) throws {
        try FileManager.default.createSymbolicLink(atPath: at(relative), withDestinationPath: destination)
    }

    var targetIsUntouched: Bool {
        var info = stat()
        return (try? String(contentsOfFile: target, encoding: .utf8)) == "untouched\n" && stat(target, &info) == 0 && info.st_uid == geteuid()
    }

    /// Many callers making the same folders at once (two replicas of a grid webservice write
    /// their job files together): each gets the folder, the owner's, and none is refused.
    @Test func openersOfANewFileAtOnceAllGetTheToolsFile() throws {
        // Two replicas starting together open their shared log: neither may see it half made
        // (the platform's, before it is given to the tool).
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 32) { _ in
            do {
                close(try home.openForAppending(HomePath(platform: "logs", "web.err")))
            } catch {
                failures.withLock { $0 += 1 }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        var info = stat()
        #expect(stat(at("logs/web.err"), &info) == 0 && info.st_uid == home.owner.uid)
        let left = try FileManager.default.contentsOfDirectory(atPath: at("logs"))
        #expect(left == ["web.err"], "temporary files left: \(left)")
    }

    @Test func foldersMadeAtOnceByManyCallersAreAllTheOwners() async throws {
        let home = self.home
        let results = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    do throws(KilnError) {
                        try home.makeDirectory(HomePath(platform: ".kiln", "grid"))
                        return nil
                    } catch {
                        return error.message
                    }
                }
            }
            return await group.reduce(into: [String]()) { if let failure = $1 { $0.append(failure) } }
        }
        #expect(results.isEmpty, "\(results)")
        var info = stat()
        #expect(stat(at(".kiln/grid"), &info) == 0 && info.st_uid == home.owner.uid)
        // No temporary folder is left beside them.
        let left = try FileManager.default.contentsOfDirectory(atPath: home.path).filter { $0.contains(".kiln-") }
        #expect(left.isEmpty, "\(left)")
    }

    @Test func appendingCreatesTheFileAndItsFoldersAsTheOwners() throws {
        let descriptor = try home.openForAppending(HomePath(platform: "logs", "web.out"))
        _ = write(descriptor, "hi\n", 3)
        close(descriptor)
        var info = stat()
        #expect(lstat(at("logs/web.out"), &info) == 0)
        #expect(info.st_uid == home.owner.uid && info.st_mode & 0o777 == 0o640)
        #expect(lstat(at("logs"), &info) == 0)
        #expect(info.st_uid == home.owner.uid && info.st_mode & 0o777 == 0o750)
        #expect(try String(contentsOfFile: at("logs/web.out"), encoding: .utf8) == "hi\n")
    }

    @Test func aLinkAtTheFilesNameIsNeitherFollowedNorChowned() throws {
        try plantLink("job.out", to: target)
        let error = #expect(throws: KilnError.self) { _ = try home.openForAppending(HomePath(platform: "job.out")) }
        #expect(error?.message.contains("symbolic link") == true)
        #expect(throws: KilnError.self) { _ = try home.openForReading(HomePath(platform: "job.out")) }
        #expect(throws: KilnError.self) { try home.rotate(HomePath(platform: "job.out"), ifLargerThan: 0) }
        #expect(targetIsUntouched)
    }

    @Test func aLinkedFolderOnTheWayIsNotEntered() throws {
        try FileManager.default.createDirectory(atPath: root + "/elsewhere", withIntermediateDirectories: true)
        try plantLink("logs", to: root + "/elsewhere")
        #expect(throws: KilnError.self) { _ = try home.openForAppending(HomePath(platform: "logs", "web.err")) }
        #expect(throws: KilnError.self) { try home.write(Array("x".utf8), to: HomePath(platform: "logs", "conf")) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/elsewhere").isEmpty)
    }

    @Test func aHardLinkIsRefused() throws {
        let file = at("mine")
        try "mine\n".write(toFile: file, atomically: true, encoding: .utf8)
        chown(file, home.owner.uid, home.owner.gid)
        #expect(link(file, at("linked")) == 0)
        let error = #expect(throws: KilnError.self) { _ = try home.openForReading(HomePath(platform: "linked")) }
        #expect(error?.message.contains("hard links") == true)
    }

    @Test func aFIFOIsRefusedWithoutWaitingForAWriter() throws {
        #expect(mkfifo(at("web.err"), 0o666) == 0)
        chown(at("web.err"), home.owner.uid, home.owner.gid)
        #expect(throws: KilnError.self) { _ = try home.openForReading(HomePath(platform: "web.err")) }
        #expect(throws: KilnError.self) { _ = try home.openForAppending(HomePath(platform: "web.err")) }
    }

    @Test func aDeviceIsRefused() throws {
        try #require(geteuid() == 0, "only root can make a device node")
        // /dev/zero's numbers: reading it would never end.
        #expect(mknod(at("zero.log"), S_IFCHR | 0o666, (1 << 8) | 5) == 0)
        chown(at("zero.log"), home.owner.uid, home.owner.gid)
        let error = #expect(throws: KilnError.self) { _ = try home.openForReading(HomePath(platform: "zero.log")) }
        #expect(error?.message.contains("not a regular file") == true)
    }

    @Test func anotherUsersFileIsRefused() throws {
        try #require(home.owner != .process, "needs the tests to run as root, with the home another user's")
        try "root's\n".write(toFile: at("token"), atomically: true, encoding: .utf8)
        let error = #expect(throws: KilnError.self) { _ = try home.openForReading(HomePath(platform: "token")) }
        #expect(error?.message.contains("belongs to uid 0") == true)
        #expect(throws: KilnError.self) { _ = try home.openForAppending(HomePath(platform: "token")) }
    }

    @Test func writingReplacesALinkRatherThanWritingThroughIt() throws {
        try plantLink("service.manifest", to: target)
        try home.write(Array("declared\n".utf8), to: HomePath(platform: "service.manifest"))
        var info = stat()
        #expect(lstat(at("service.manifest"), &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG)
        #expect(info.st_uid == home.owner.uid)
        #expect(try String(contentsOfFile: at("service.manifest"), encoding: .utf8) == "declared\n")
        #expect(targetIsUntouched)
    }

    @Test func removingALinkRemovesTheLinkOnly() throws {
        try plantLink("service.manifest", to: target)
        #expect(home.removeFile(HomePath(platform: "service.manifest")))
        #expect(!FileManager.default.fileExists(atPath: at("service.manifest")))
        #expect(targetIsUntouched)
    }

    @Test func rotationKeepsTheCopyTheOwnersAndEmptiesTheFile() throws {
        let descriptor = try home.openForAppending(HomePath(platform: "logs", "web.out"))
        let line = Array("0123456789\n".utf8)
        for _ in 0..<20 { _ = write(descriptor, line, line.count) }
        close(descriptor)
        try plantLink("logs/web.out.1", to: target)
        #expect(try home.rotate(HomePath(platform: "logs", "web.out"), ifLargerThan: 100))
        var info = stat()
        #expect(lstat(at("logs/web.out.1"), &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && info.st_uid == home.owner.uid)
        #expect(try String(contentsOfFile: at("logs/web.out.1"), encoding: .utf8).count == 220)
        #expect(try String(contentsOfFile: at("logs/web.out"), encoding: .utf8).isEmpty)
        #expect(targetIsUntouched)
    }

    @Test func claimingGivesThePreviousOwnersFilesAndNeverALinksTarget() throws {
        try #require(home.owner != .process, "needs the tests to run as root, with the home another user's")
        try FileManager.default.createDirectory(atPath: at("www/python"), withIntermediateDirectories: true)
        try "app\n".write(toFile: at("www/python/app.py"), atomically: true, encoding: .utf8)
        try plantLink("www/escape", to: target)
        // A hard link to a file of the platform's stays the platform's.
        #expect(link(target, at("www/hard")) == 0)
        let changed = try home.claim(from: .process)
        #expect(changed == 4)
        var info = stat()
        #expect(stat(at("www/hard"), &info) == 0 && info.st_uid == FileOwner.process.uid)
        #expect(stat(at("www/python/app.py"), &info) == 0 && info.st_uid == home.owner.uid)
        #expect(lstat(at("www/escape"), &info) == 0 && info.st_uid == home.owner.uid)
        #expect(targetIsUntouched)
    }
}
