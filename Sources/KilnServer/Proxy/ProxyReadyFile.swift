import Foundation
import KilnCore
import KilnRunner

#if canImport(Glibc)
import Glibc
#endif

/// The file in which a supervised proxy says it is ready: its pid and start time (which name one
/// process for the life of the machine, unlike a pid alone). The supervisor waits for a new
/// proxy's line before it lets the old one go, and after a restart of its own adopts the proxy
/// the file names if that process still runs.
public struct ProxyReadyFile: Sendable, Hashable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// One running process.
    public struct Process: Sendable, Hashable {
        public var pid: Int32
        public var start: UInt64
    }

    /// Writes this process's line, replacing the file whole (written beside it, then renamed).
    public func markReady() throws {
        let pid = getpid()
        guard let start = ProcessInspector.startTime(of: pid) else {
            throw KilnError(.internalError, "cannot read this process's start time")
        }
        let temporary = path + ".\(pid)"
        try Data("\(pid) \(start)\n".utf8).write(to: URL(fileURLWithPath: temporary))
        chmod(temporary, 0o600)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw KilnError(.internalError, "cannot write \(path): \(reason)")
        }
    }

    /// The process the file names, if it still runs.
    public func runningProcess() -> Process? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let pid = Int32(fields[0]), pid > 1, let start = UInt64(fields[1]),
            ProcessInspector.isAlive(pid: pid, start: start)
        else { return nil }
        return Process(pid: pid, start: start)
    }

    public func remove() { unlink(path) }
}
