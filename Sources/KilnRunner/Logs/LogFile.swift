import Foundation
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// A tool's log file: read from the end or from an offset, and kept under a size limit.
public struct LogFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The last `count` lines (fewer when the file is shorter; none when it does not exist).
    public func lastLines(_ count: Int, maximumBytes: Int = 1 << 20) -> [String] {
        guard count > 0, let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > UInt64(maximumBytes) ? size - UInt64(maximumBytes) : 0
        try? handle.seek(toOffset: start)
        let data = (try? handle.readToEnd()) ?? Data()
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        // A read that began mid-file begins mid-line: drop the partial first line.
        if start > 0, !lines.isEmpty { lines.removeFirst() }
        return Array(lines.suffix(count))
    }

    /// What was appended since `offset`, and the offset to ask from next time. A file that shrank
    /// (it was rotated) is read again from its start.
    public func read(from offset: UInt64, maximumBytes: Int = 1 << 20) -> (text: String, next: UInt64) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return ("", 0) }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let from = offset > size ? 0 : offset
        try? handle.seek(toOffset: from)
        let data = (try? handle.read(upToCount: maximumBytes)) ?? Data()
        return (String(decoding: data, as: UTF8.self), from + UInt64(data.count))
    }

    /// When the file is over `limit` bytes, its content moves to `PATH.1` (the previous `.1` is
    /// dropped) and the file is emptied in place. The writer keeps its descriptor, opened with
    /// O_APPEND, so it goes on writing at the new end: nothing has to be restarted, and a server
    /// that outlived `kiln serve` keeps logging to the same file.
    @discardableResult
    public func rotate(ifLargerThan limit: UInt64) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = attributes[.size] as? UInt64, size > limit
        else { return false }
        let rotated = path + ".1"
        try? FileManager.default.removeItem(atPath: rotated)
        guard (try? FileManager.default.copyItem(atPath: path, toPath: rotated)) != nil else { return false }
        if let owner = attributes[.ownerAccountID] as? NSNumber, let group = attributes[.groupOwnerAccountID] as? NSNumber {
            chown(rotated, owner.uint32Value, group.uint32Value)
        }
        return truncate(path, 0) == 0
    }
}
