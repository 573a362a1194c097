import Foundation
import KilnBuilds
import KilnCore
import KilnFiles
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An image's folder as a hostile build leaves it: links out, FIFOs, hard links to others'
/// files, descriptors kept open for writing, files that are not the tool's. Sealed, the image is
/// the platform's and read-only, holds copies only, and nothing outside it changed.
@Suite struct ImageTreeTests {
    let root: String
    /// The build's user: `nobody` when the tests run as root (as a tool has a user of its own).
    let builder: FileOwner
    let sealed: FileOwner
    /// A file outside the image that links point at.
    let outside: String

    init() throws {
        root = NSTemporaryDirectory() + "/kiln-image-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/image/app/sub", withIntermediateDirectories: true)
        builder = geteuid() == 0 ? getpwnam("nobody").map { FileOwner(uid: $0.pointee.pw_uid, gid: $0.pointee.pw_gid) } ?? .process : .process
        sealed = FileOwner(uid: geteuid(), gid: builder.gid)
        outside = root + "/outside"
        try "untouched\n".write(toFile: outside, atomically: true, encoding: .utf8)
    }

    var tree: ImageTree { ImageTree(path: root + "/image", builder: builder, sealedOwner: sealed) }

    /// Writes a file of the builder's into the image.
    func file(_ relative: String, _ contents: String, mode: mode_t = 0o644) throws {
        let path = root + "/image/" + relative
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, mode)
        chown(path, builder.uid, builder.gid)
    }

    func giveAll() {
        for relative in ["image", "image/app", "image/app/sub"] { chown(root + "/" + relative, builder.uid, builder.gid) }
    }

    func info(_ relative: String) -> stat? {
        var info = stat()
        return lstat(root + "/image/" + relative, &info) == 0 ? info : nil
    }

    @Test func aSealedImageIsThePlatformsReadOnlyAndHashed() throws {
        try file("app/app.py", "print('hi')\n")
        try file("app/run", "#!/bin/sh\n", mode: 0o755)
        try file("app/sub/data.txt", "data\n")
        giveAll()
        let result = try tree.seal(maximumBytes: 1 << 20)
        #expect(result.files == 3)
        #expect(result.digest.hasPrefix("sha256:") && result.digest.count == 71)
        for relative in ["app/app.py", "app/run", "app/sub/data.txt", "app", "app/sub", ""] {
            let entry = try #require(info(relative))
            #expect(entry.st_uid == sealed.uid && entry.st_gid == sealed.gid, "\(relative)")
            #expect(entry.st_mode & 0o222 == 0 || (entry.st_mode & S_IFMT) == S_IFDIR && entry.st_mode & 0o022 == 0, "\(relative): \(String(entry.st_mode, radix: 8))")
            #expect(entry.st_mode & 0o007 == 0, "others may not read \(relative)")
        }
        #expect(try #require(info("app/run")).st_mode & 0o111 != 0)
        #expect(try #require(info("app/app.py")).st_mode & 0o111 == 0)
        #expect(try String(contentsOfFile: root + "/image/app/app.py", encoding: .utf8) == "print('hi')\n")
    }

    @Test func theSameTreeHasTheSameDigestAndAChangeChangesIt() throws {
        func make(_ name: String, _ contents: String) throws -> String {
            let path = root + "/" + name
            try FileManager.default.createDirectory(atPath: path + "/app", withIntermediateDirectories: true)
            try contents.write(toFile: path + "/app/a", atomically: false, encoding: .utf8)
            for entry in [path, path + "/app", path + "/app/a"] { chown(entry, builder.uid, builder.gid) }
            return try ImageTree(path: path, builder: builder, sealedOwner: sealed).seal(maximumBytes: 1 << 20).digest
        }
        let one = try make("one", "same\n")
        #expect(try make("two", "same\n") == one)
        #expect(try make("three", "other\n") != one)
    }

    @Test func linksStayLinksAndWhatTheyPointAtIsUntouched() throws {
        try file("app/app.py", "x\n")
        try FileManager.default.createSymbolicLink(atPath: root + "/image/app/out", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: root + "/image/app/dir", withDestinationPath: root)
        lchown(root + "/image/app/out", builder.uid, builder.gid)
        lchown(root + "/image/app/dir", builder.uid, builder.gid)
        giveAll()
        _ = try tree.seal(maximumBytes: 1 << 20)
        #expect(try #require(info("app/out")).st_mode & S_IFMT == S_IFLNK)
        var target = stat()
        #expect(stat(outside, &target) == 0 && target.st_uid == geteuid() && target.st_mode & 0o777 == 0o644)
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "untouched\n")
        var folder = stat()
        #expect(stat(root, &folder) == 0 && folder.st_uid == geteuid())
    }

    @Test func fifosAndSocketsAreDroppedAndNeverOpened() throws {
        try file("app/app.py", "x\n")
        #expect(mkfifo(root + "/image/app/pipe", 0o644) == 0)
        chown(root + "/image/app/pipe", builder.uid, builder.gid)
        giveAll()
        _ = try tree.seal(maximumBytes: 1 << 20)
        #expect(info("app/pipe") == nil)
    }

    @Test func aHardLinkToAFileOutsideIsCopiedNotTaken() throws {
        try "theirs\n".write(toFile: root + "/theirs", atomically: false, encoding: .utf8)
        chown(root + "/theirs", builder.uid, builder.gid)
        #expect(link(root + "/theirs", root + "/image/app/linked") == 0)
        giveAll()
        _ = try tree.seal(maximumBytes: 1 << 20)
        var theirs = stat()
        #expect(stat(root + "/theirs", &theirs) == 0 && theirs.st_uid == builder.uid && theirs.st_nlink == 1, "the file outside changed hands")
        #expect(try String(contentsOfFile: root + "/image/app/linked", encoding: .utf8) == "theirs\n")
    }

    @Test func aDescriptorKeptOpenForWritingNoLongerReachesTheImage() throws {
        try file("app/app.py", "original\n")
        giveAll()
        let kept = open(root + "/image/app/app.py", O_WRONLY | O_APPEND)
        #expect(kept >= 0)
        defer { close(kept) }
        _ = try tree.seal(maximumBytes: 1 << 20)
        let late = Array("changed later\n".utf8)
        _ = late.withUnsafeBytes { write(kept, $0.baseAddress, $0.count) }
        #expect(try String(contentsOfFile: root + "/image/app/app.py", encoding: .utf8) == "original\n")
    }

    @Test(.enabled("needs root: files of two users") { geteuid() == 0 })
    func aFileThatIsNotTheBuildersFailsTheSeal() throws {
        try file("app/app.py", "x\n")
        try "root's\n".write(toFile: root + "/image/app/planted", atomically: false, encoding: .utf8)
        giveAll()
        #expect(throws: KilnError.self) { try tree.seal(maximumBytes: 1 << 20) }
    }

    @Test func anImageOverItsQuotaIsRefused() throws {
        try file("app/big", String(repeating: "x", count: 4096))
        giveAll()
        let error = try #require(throws: KilnError.self) { try tree.seal(maximumBytes: 1000) }
        #expect(error.code == .quotaExceeded)
    }

    @Test func droppedFoldersGoWithoutFollowingALink() throws {
        try FileManager.default.createDirectory(atPath: root + "/elsewhere/.git", withIntermediateDirectories: true)
        try file("app/app.py", "x\n")
        try FileManager.default.createDirectory(atPath: root + "/image/app/.git", withIntermediateDirectories: true)
        try file("app/.git/HEAD", "ref\n")
        chown(root + "/image/app/.git", builder.uid, builder.gid)
        // `layers` a link to a folder outside holding a `.git`: not followed.
        try FileManager.default.createSymbolicLink(atPath: root + "/image/layers", withDestinationPath: root + "/elsewhere")
        lchown(root + "/image/layers", builder.uid, builder.gid)
        giveAll()
        _ = try tree.seal(maximumBytes: 1 << 20, dropping: [["app", ".git"], ["layers", ".git"]])
        #expect(info("app/.git") == nil)
        #expect(FileManager.default.fileExists(atPath: root + "/elsewhere/.git"))
    }

    @Test func removalGoesByDescriptorAndLeavesWhatLinksPointAt() throws {
        try file("app/app.py", "x\n")
        try FileManager.default.createSymbolicLink(atPath: root + "/image/app/out", withDestinationPath: root)
        giveAll()
        try tree.remove()
        #expect(!FileManager.default.fileExists(atPath: root + "/image"))
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "untouched\n")
    }
}
