import KilnCore
import KilnFiles

#if canImport(Glibc)
import Glibc
#endif

/// A tool's log file: read from the end or from an offset, and kept under a size limit.
///
/// It lives in the tool's home, so it is reached only through `ConfinedDirectory`: a link, a FIFO,
/// a device or another's file planted at its name is refused, never read or written through, and
/// every read is bounded.
public struct LogFile: Sendable {
    public let directory: ConfinedDirectory
    public let path: HomePath

    public init(in directory: ConfinedDirectory, at path: HomePath) {
        self.directory = directory
        self.path = path
    }

    /// The file on the host, for messages.
    public var hostPath: String { path.absolute(in: directory.path) }

    /// The last `count` lines (fewer when the file is shorter; none when it does not exist).
    public func lastLines(_ count: Int, maximumBytes: Int = 1 << 20) throws(KilnError) -> [String] {
        guard count > 0, let file = try directory.openForReading(path) else { return [] }
        let size = Self.size(of: file)
        let start = size > UInt64(maximumBytes) ? size - UInt64(maximumBytes) : 0
        let bytes = try Self.read(file, from: start, upTo: maximumBytes, hostPath)
        var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        // A read that began mid-file begins mid-line: drop the partial first line.
        if start > 0, !lines.isEmpty { lines.removeFirst() }
        return Array(lines.suffix(count))
    }

    /// What was appended since `offset`, and the offset to ask from next time. A file that shrank
    /// (it was rotated) is read again from its start.
    public func read(from offset: UInt64, maximumBytes: Int = 1 << 20) throws(KilnError) -> (text: String, next: UInt64) {
        guard let file = try directory.openForReading(path) else { return ("", 0) }
        let size = Self.size(of: file)
        let from = offset > size ? 0 : offset
        let bytes = try Self.read(file, from: from, upTo: maximumBytes, hostPath)
        return (String(decoding: bytes, as: UTF8.self), from + UInt64(bytes.count))
    }

    /// The size of the file now (0 when it does not exist).
    public func size() throws(KilnError) -> UInt64 {
        guard let file = try directory.openForReading(path) else { return 0 }
        return Self.size(of: file)
    }

    /// See `ConfinedDirectory.rotate`.
    @discardableResult
    public func rotate(ifLargerThan limit: UInt64) throws(KilnError) -> Bool {
        try directory.rotate(path, ifLargerThan: limit)
    }

    public static func size(of file: borrowing Descriptor) -> UInt64 {
        var info = stat()
        guard fstat(file.rawValue, &info) == 0, info.st_size > 0 else { return 0 }
        return UInt64(info.st_size)
    }

    /// At most `limit` bytes from `offset`: a file that grows while it is read is not chased.
    public static func read(_ file: borrowing Descriptor, from offset: UInt64, upTo limit: Int, _ name: String) throws(KilnError) -> [UInt8] {
        // Offsets come from callers (`?offset=`): past any real file, and never near overflow.
        guard offset < UInt64(Int64.max / 2) else { return [] }
        var bytes = [UInt8](repeating: 0, count: max(0, limit))
        var filled = 0
        while filled < bytes.count {
            let count = bytes[filled...].withUnsafeMutableBytes { buffer in
                pread(file.rawValue, buffer.baseAddress, buffer.count, off_t(offset) + off_t(filled))
            }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw KilnError(.internalError, "cannot read \(name): \(String(cString: strerror(errno)))", context: ["path": name])
            }
            if count == 0 { break }
            filled += count
        }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }
}
