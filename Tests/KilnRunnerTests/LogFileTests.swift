import Foundation
import KilnRunner
import Testing

@Suite struct LogFileTests {
    func temporaryFile(_ contents: String) throws -> String {
        let path = NSTemporaryDirectory() + "/kiln-log-\(UUID().uuidString)"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func lastLinesFromTheEnd() throws {
        let log = LogFile(path: try temporaryFile("one\ntwo\nthree\n"))
        #expect(log.lastLines(2) == ["two", "three"])
        #expect(log.lastLines(10) == ["one", "two", "three"])
        #expect(log.lastLines(0).isEmpty)
        #expect(LogFile(path: "/nonexistent/kiln.log").lastLines(5).isEmpty)
        // A read window that starts mid-file drops the partial first line.
        #expect(log.lastLines(10, maximumBytes: 9) == ["three"])
    }

    @Test func readingOnFromAnOffsetFollowsTheFile() throws {
        let path = try temporaryFile("first\n")
        let log = LogFile(path: path)
        let (text, next) = log.read(from: 0)
        #expect(text == "first\n" && next == 6)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("second\n".utf8))
        try handle.close()
        #expect(log.read(from: next) == ("second\n", 13))
        // An offset past the end (the file was rotated) starts again from the top.
        #expect(log.read(from: 1000).text == "first\nsecond\n")
    }

    @Test func rotationKeepsTheWritersDescriptorWorking() throws {
        let path = try temporaryFile("")
        let fd = open(path, O_WRONLY | O_APPEND)
        defer { close(fd) }
        let line = Array("0123456789\n".utf8)
        for _ in 0..<10 { _ = write(fd, line, line.count) }
        let log = LogFile(path: path)
        #expect(log.rotate(ifLargerThan: 1000) == false)
        #expect(log.rotate(ifLargerThan: 100))
        #expect(try String(contentsOfFile: path + ".1", encoding: .utf8).count == 110)
        // The writer goes on at the new end of the emptied file, not at its old offset.
        _ = write(fd, line, line.count)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "0123456789\n")
    }
}
