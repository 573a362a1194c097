import Foundation
import KilnCore
import KilnFiles
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct RuntimeDirectoryTests {
    let tool = try! ToolName("bot")

    @Test func exitFilesAreInAFolderOnlyThePlatformWrites() throws {
        let runtime = try #require(RuntimeDirectory.prepare(tag: "t\(UUID().uuidString.prefix(8))", fallback: NSTemporaryDirectory() + "/kr-\(UUID())"))
        defer { runtime.tidy(removingFiles: true) }
        let owner = FileOwner(uid: 65534, gid: 65534)
        let path = try runtime.makeExitFile("run-1.1.exit", of: tool, owner: owner)
        var info = stat()
        #expect(stat(try runtime.exitFolder(of: tool), &info) == 0 && info.st_uid == geteuid() && info.st_mode & 0o777 == 0o711)
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        if geteuid() == 0 { #expect(info.st_uid == 65534) }
        try "3\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(RuntimeDirectory.readExitFile(path) == "3\n")
        // A FIFO at an exit file's name is refused without blocking.
        unlink(path)
        #expect(mkfifo(path, 0o600) == 0)
        #expect(RuntimeDirectory.readExitFile(path) == nil)
    }

    @Test func aFolderSomeoneElseMadeFirstIsNotUsed() throws {
        try #require(geteuid() == 0, "needs root to make a folder of another user's")
        let squatted = NSTemporaryDirectory() + "/kiln-squat-\(UUID().uuidString)"
        #expect(mkdir(squatted, 0o777) == 0)
        chown(squatted, 65534, 65534)
        #expect(throws: KilnError.self) { try PrivateDirectory.ensure(squatted, mode: 0o711, owner: .process) }
        let link = squatted + "-link"
        #expect(symlink(NSTemporaryDirectory(), link) == 0)
        #expect(throws: KilnError.self) { try PrivateDirectory.ensure(link, mode: 0o711, owner: .process) }
    }

    @Test func theSocketFolderIsTheToolsOwn() throws {
        let runtime = try #require(RuntimeDirectory.prepare(tag: "t\(UUID().uuidString.prefix(8))", fallback: NSTemporaryDirectory() + "/kr-\(UUID())"))
        defer { runtime.tidy(removingFiles: true) }
        let owner = geteuid() == 0 ? FileOwner(uid: 65534, gid: 65534) : .process
        let folder = try runtime.socketFolder(of: tool, owner: owner)
        var info = stat()
        #expect(stat(folder, &info) == 0 && info.st_uid == owner.uid && info.st_mode & 0o777 == 0o700)
    }
}
