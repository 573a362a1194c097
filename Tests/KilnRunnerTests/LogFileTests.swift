import Foundation
import KilnCore
import KilnFiles
import KilnRunner
import Testing

@Suite struct LogFileTests {
    let home: ConfinedDirectory

    init() throws {
        let path = NSTemporaryDirectory() + "/kiln-log-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        home = ConfinedDirectory(path: path, owner: .process)
    }

    func log(_ contents: String) throws -> LogFile {
        let name = HomePath(platform: "web.log")
        try contents.write(toFile: name.absolute(in: home.path), atomically: true, encoding: .utf8)
        return LogFile(in: home, at: name)
    }

    @Test func lastLinesFromTheEnd() throws {
        let log = try log("one\ntwo\nthree\n")
        #expect(try log.lastLines(2) == ["two", "three"])
        #expect(try log.lastLines(10) == ["one", "two", "three"])
        #expect(try log.lastLines(0).isEmpty)
        #expect(try LogFile(in: home, at: HomePath(platform: "nonexistent", "kiln.log")).lastLines(5).isEmpty)
        // A read window that starts mid-file drops the partial first line.
        #expect(try log.lastLines(10, maximumBytes: 9) == ["three"])
    }

    @Test func readingOnFromAnOffsetFollowsTheFile() throws {
        let log = try log("first\n")
        let (text, next) = try log.read(from: 0)
        #expect(text == "first\n" && next == 6)
        let handle = try #require(FileHandle(forWritingAtPath: log.hostPath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("second\n".utf8))
        try handle.close()
        #expect(try log.read(from: next) == ("second\n", 13))
        // An offset past the end (the file was rotated) starts again from the top.
        #expect(try log.read(from: 1000).text == "first\nsecond\n")
        #expect(try log.read(from: .max).text == "first\nsecond\n")
    }

    @Test func rotationKeepsTheWritersDescriptorWorking() throws {
        let log = try log("")
        let fd = open(log.hostPath, O_WRONLY | O_APPEND)
        defer { close(fd) }
        let line = Array("0123456789\n".utf8)
        for _ in 0..<10 { _ = write(fd, line, line.count) }
        #expect(try log.rotate(ifLargerThan: 1000) == false)
        #expect(try log.rotate(ifLargerThan: 100))
        #expect(try String(contentsOfFile: log.hostPath + ".1", encoding: .utf8).count == 110)
        // The writer goes on at the new end of the emptied file, not at its old offset.
        _ = write(fd, line, line.count)
        #expect(try String(contentsOfFile: log.hostPath, encoding: .utf8) == "0123456789\n")
    }

    @Test func aLinkOrAFIFOPlantedAsTheLogIsRefusedNotFollowed() throws {
        let secret = NSTemporaryDirectory() + "/kiln-secret-\(UUID().uuidString)"
        try "root's secret\n".write(toFile: secret, atomically: true, encoding: .utf8)
        let name = HomePath(platform: "web.log")
        try FileManager.default.createSymbolicLink(atPath: name.absolute(in: home.path), withDestinationPath: secret)
        let log = LogFile(in: home, at: name)
        #expect(throws: KilnError.self) { try log.lastLines(5) }
        #expect(throws: KilnError.self) { try log.rotate(ifLargerThan: 0) }
        #expect(try String(contentsOfFile: secret, encoding: .utf8) == "root's secret\n")
        let fifo = HomePath(platform: "fifo.log")
        #expect(mkfifo(fifo.absolute(in: home.path), 0o600) == 0)
        // Refused at once: opened without blocking, then seen not to be a regular file.
        #expect(throws: KilnError.self) { try LogFile(in: home, at: fifo).lastLines(5) }
    }
}
