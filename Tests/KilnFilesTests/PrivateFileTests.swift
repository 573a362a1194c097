import Foundation
import KilnCore
import KilnFiles
import Testing

/// The platform's own files written by rename (0600) and read back only when no one else could
/// have put them there.
@Suite struct PrivateFileTests {
    let folder: String

    init() throws {
        var template = Array("/tmp/kpf.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw KilnError(.storage, "mkdtemp failed") }
        folder = String(cString: made)
    }

    @Test func aFileWrittenIsReadBackWhole() throws {
        let path = folder + "/routes.json"
        #expect(try PrivateDirectory.readPrivateFile(path, maximumBytes: 1 << 20) == nil, "none yet")
        let bytes = (0..<300_000).map { UInt8($0 % 251) }
        try PrivateDirectory.writePrivateFile(bytes, to: path)
        #expect(try PrivateDirectory.readPrivateFile(path, maximumBytes: 1 << 20) == bytes)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["routes.json"], "no temporary file left")
        try PrivateDirectory.writePrivateFile([1, 2, 3], to: path)
        #expect(try PrivateDirectory.readPrivateFile(path, maximumBytes: 1 << 20) == [1, 2, 3], "replaced")
    }

    @Test func whatAnotherCouldHavePutThereIsRefused() throws {
        let path = folder + "/routes.json"
        try PrivateDirectory.writePrivateFile([1], to: path)
        #expect(throws: KilnError.self) { try PrivateDirectory.readPrivateFile(path, maximumBytes: 0) }
        chmod(path, 0o620)
        #expect(throws: KilnError.self) { try PrivateDirectory.readPrivateFile(path, maximumBytes: 16) }
        chmod(path, 0o600)
        let link = folder + "/link"
        #expect(symlink(path, link) == 0)
        #expect(throws: KilnError.self) { try PrivateDirectory.readPrivateFile(link, maximumBytes: 16) }
        let fifo = folder + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: KilnError.self) { try PrivateDirectory.readPrivateFile(fifo, maximumBytes: 16) }
        if geteuid() == 0 {
            #expect(chown(path, 65534, 65534) == 0)
            #expect(throws: KilnError.self) { try PrivateDirectory.readPrivateFile(path, maximumBytes: 16) }
        }
        // Writing never follows a link left at the temporary name.
        #expect(symlink("/tmp/elsewhere", path + ".tmp.\(getpid())") == 0)
        try PrivateDirectory.writePrivateFile([7], to: folder + "/routes.json")
    }
}
