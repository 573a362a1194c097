import KilnCore
import NIOCore
import NIOHTTP1

/// Layered timeouts, as the seed had them: each request class has an inner timeout (the backend's
/// time to first byte) and the proxy's own outer timeout for the whole wait, which must never be
/// shorter than the inner one, or a slow backend would be cut off by the wrong layer.
public struct TimeoutPolicy: Sendable, Hashable {
    public struct Class: Sendable, Hashable {
        public var firstByte: TimeAmount
        public var outer: TimeAmount
        public var maxBodyBytes: Int

        public init(firstByte: TimeAmount, outer: TimeAmount, maxBodyBytes: Int) {
            self.firstByte = firstByte
            self.outer = outer
            self.maxBodyBytes = maxBodyBytes
        }
    }

    /// GET and HEAD.
    public var read: Class
    /// Every other method.
    public var write: Class
    public var connect: TimeAmount
    public var headerRead: TimeAmount
    public var idle: TimeAmount
    public var maxHeaderBytes: Int
    /// A TLS connection that has not finished its handshake by then is closed.
    public var tlsHandshake: TimeAmount = .seconds(10)
    /// A client that reads none of what the proxy sends it (its connection stays unwritable) for
    /// this long is closed: a slow reader holds a connection and its buffers no longer.
    public var send: TimeAmount = .seconds(60)
    /// A websocket (or other upgraded) tunnel with no byte either way for this long is closed,
    /// as Toolforge's front closes them.
    public var tunnelIdle: TimeAmount = .hours(1)
    /// A backend that sends nothing for this long once its response has begun is cut off (the
    /// client's connection closed, as the response cannot be finished): a stalled backend holds
    /// no client. Not counted while the client is the one not reading.
    public var backendStall: TimeAmount = .seconds(60)

    public init(
        read: Class = .init(firstByte: .seconds(60), outer: .seconds(75), maxBodyBytes: 1 << 20),
        write: Class = .init(firstByte: .seconds(200), outer: .seconds(215), maxBodyBytes: 128 << 20),
        connect: TimeAmount = .seconds(5),
        headerRead: TimeAmount = .seconds(30),
        idle: TimeAmount = .seconds(75),
        maxHeaderBytes: Int = 32 * 1024
    ) {
        self.read = read
        self.write = write
        self.connect = connect
        self.headerRead = headerRead
        self.idle = idle
        self.maxHeaderBytes = maxHeaderBytes
    }

    public func forMethod(_ method: HTTPMethod) -> Class {
        forRequest(isRead: method == .GET || method == .HEAD)
    }

    /// The read class for GET and HEAD, the write class for every other method.
    func forRequest(isRead: Bool) -> Class { isRead ? read : write }

    /// Refuses a contradictory configuration with a message that names the setting.
    public func validate() throws(KilnError) {
        for (name, timeouts) in [("read", read), ("write", write)] {
            guard timeouts.firstByte > .zero, timeouts.outer > .zero else {
                throw KilnError(.badRequest, "the \(name) class's timeouts must be positive")
            }
            guard timeouts.outer >= timeouts.firstByte + connect else {
                throw KilnError(
                    .badRequest,
                    "the \(name) class's outer timeout (\(Self.seconds(timeouts.outer)) s) is shorter than its first-byte "
                        + "timeout plus the connect timeout (\(Self.seconds(timeouts.firstByte + connect)) s): "
                        + "the outer layer must wait at least as long as the inner one",
                    context: ["class": name])
            }
            guard timeouts.maxBodyBytes >= 0 else {
                throw KilnError(.badRequest, "the \(name) class's body limit must not be negative")
            }
        }
        guard headerRead > .zero, idle > .zero, connect > .zero, tlsHandshake > .zero, send > .zero, tunnelIdle > .zero,
            backendStall > .zero
        else {
            throw KilnError(
                .badRequest, "the connect, header-read, idle, TLS handshake, send, tunnel idle and backend stall timeouts must be positive")
        }
        guard maxHeaderBytes >= 1024 else { throw KilnError(.badRequest, "the header limit must be at least 1024 bytes") }
    }

    static func seconds(_ amount: TimeAmount) -> String {
        let value = Double(amount.nanoseconds) / 1e9
        return value == value.rounded() ? String(Int(value)) : String(value)
    }
}
