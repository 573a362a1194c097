import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The access log in combined format. Event loops only append a line to a buffer under a short
/// lock; a background thread writes the buffer to the file every 200 ms, so no request ever waits
/// for the disk.
public final class AccessLog: Sendable {
    private let buffer = NIOLockedValueBox<[UInt8]>([])
    private let descriptor: Int32
    private let running = NIOLockedValueBox(true)
    private static let maxBuffered = 8 << 20

    public init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw NSError(domain: "kiln.accesslog", code: Int(errno), userInfo: [NSLocalizedDescriptionKey: "cannot open \(path)"])
        }
        let thread = Thread { [self] in
            while running.withLockedValue({ $0 }) {
                Thread.sleep(forTimeInterval: 0.2)
                flush()
            }
            flush()
        }
        thread.name = "kiln-access-log"
        thread.start()
    }

    func record(client: String, head: HTTPRequestHead, status: UInt, bytes: Int) {
        var line = Line(client: client)
        line.appendQuoted("\(head.method.rawValue) \(head.uri) HTTP/\(head.version.major).\(head.version.minor)")
        line.appendOutcome(status: status, bytes: bytes)
        line.appendQuoted(head.headers.first(name: "referer") ?? "-")
        line.appendQuoted(head.headers.first(name: "user-agent") ?? "-", last: true)
        append(line.bytes)
    }

    /// The fast path's exchanges: the fields are read from the head's bytes, no String made.
    func record(client: String, request: HTTP1Request, status: UInt, bytes: Int) {
        var line = Line(client: client)
        request.head.withUnsafeReadableBytes { head in
            line.appendQuoted(UnsafeRawBufferPointer(rebasing: head[request.requestLine]))
            line.appendOutcome(status: status, bytes: bytes)
            line.appendQuoted(request.referer.map { UnsafeRawBufferPointer(rebasing: head[$0]) })
            line.appendQuoted(request.userAgent.map { UnsafeRawBufferPointer(rebasing: head[$0]) }, last: true)
        }
        append(line.bytes)
    }

    private func append(_ line: [UInt8]) {
        buffer.withLockedValue { buffered in
            // Past the cap (a stuck disk), lines are dropped rather than memory grown without bound.
            if buffered.count < Self.maxBuffered { buffered.append(contentsOf: line) }
        }
    }

    /// One line of the combined format: `client - - [time] "request" status bytes "referer" "agent"`.
    struct Line {
        var bytes: [UInt8] = []

        init(client: String) {
            bytes.reserveCapacity(256)
            bytes.append(contentsOf: client.utf8)
            bytes.append(contentsOf: " - - [".utf8)
            bytes.append(contentsOf: AccessLog.timestamp().utf8)
            bytes.append(contentsOf: "] ".utf8)
        }

        mutating func appendOutcome(status: UInt, bytes count: Int) {
            bytes.append(contentsOf: "\(status) \(count) ".utf8)
        }

        mutating func appendQuoted(_ text: String, last: Bool = false) {
            var text = text
            text.withUTF8 { appendQuoted(UnsafeRawBufferPointer($0), last: last) }
        }

        /// Quotes and control characters would break the line's format: they are escaped.
        mutating func appendQuoted(_ field: UnsafeRawBufferPointer?, last: Bool = false) {
            bytes.append(UInt8(ascii: "\""))
            if let field {
                for byte in field {
                    if byte == UInt8(ascii: "\"") {
                        bytes.append(contentsOf: "\\\"".utf8)
                    } else if byte < 0x20 || byte == 0x7F {
                        bytes.append(contentsOf: "\\x\(String(byte, radix: 16))".utf8)
                    } else {
                        bytes.append(byte)
                    }
                }
            } else {
                bytes.append(UInt8(ascii: "-"))
            }
            bytes.append(UInt8(ascii: "\""))
            bytes.append(last ? UInt8(ascii: "\n") : UInt8(ascii: " "))
        }
    }

    public func flush() {
        let pending = buffer.withLockedValue { buffered -> [UInt8] in
            let taken = buffered
            buffered.removeAll(keepingCapacity: true)
            return taken
        }
        guard !pending.isEmpty else { return }
        pending.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }

    public func close() {
        running.withLockedValue { $0 = false }
        flush()
    }

    /// `24/Nov/2026:18:54:25 +0000`, formatted at most once a second per thread.
    static func timestamp() -> String {
        let now = time(nil)
        if let cached = cachedTimestamp.currentValue, cached.second == now { return cached.text }
        var parts = tm()
        var seconds = now
        gmtime_r(&seconds, &parts)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let text =
            "\(two(parts.tm_mday))/\(months[Int(parts.tm_mon)])/\(parts.tm_year + 1900):\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
        cachedTimestamp.currentValue = CachedTimestamp(second: now, text: text)
        return text
    }

    final class CachedTimestamp {
        let second: time_t
        let text: String
        init(second: time_t, text: String) {
            self.second = second
            self.text = text
        }
    }

    // ThreadSpecificVariable is per thread by construction.
    nonisolated(unsafe) static let cachedTimestamp = ThreadSpecificVariable<CachedTimestamp>()
}
