import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Bytes sent as they are on a fresh connection, plain or TLS (no certificate check, no ALPN, so
/// an HTTPS listener speaks HTTP/1.1), and what came back: read until the peer closes, until one
/// final response framed by Content-Length is whole, or until the timeout.
public struct RawHTTPExchange: Sendable {
    public var response: [UInt8]
    /// The peer closed the connection (or the TLS session failed) before the timeout.
    public var peerClosed: Bool

    public var text: String { String(decoding: response, as: UTF8.self) }

    /// The status code of the first final (non-1xx) response head, if one came (its body may not
    /// have: a response to CONNECT or HEAD has none whatever its Content-Length says).
    public var status: Int? {
        var start = 0
        while let headEnd = Self.headEnd(in: response, from: start) {
            guard let status = Self.status(of: response[start..<headEnd]) else { return nil }
            if status >= 200 { return status }
            start = headEnd
        }
        return nil
    }

    private static func status(of head: ArraySlice<UInt8>) -> Int? {
        let line = String(decoding: head.prefix(12), as: UTF8.self)
        guard line.hasPrefix("HTTP/1."), line.count == 12 else { return nil }
        return Int(line.suffix(3))
    }

    public static func run(
        port: Int, _ bytes: [UInt8], tls: Bool, timeout duration: Duration = .seconds(5)
    ) async throws -> RawHTTPExchange {
        let timeout = TimeAmount(duration)
        let sslContext = try tls ? Self.clientContext() : nil
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: RawHTTPExchange.self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: sslContext, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(Collector(promise: promise, timeout: timeout))
                }
            }
        let channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(buffer, promise: nil)
        let result = try await promise.futureResult.get()
        try? await channel.close()
        return result
    }

    private static func clientContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return try NIOSSLContext(configuration: configuration)
    }

    /// The first final response whose Content-Length body is whole: its status and where it ends.
    static func finalResponse(in bytes: [UInt8]) -> (status: Int, end: Int)? {
        var start = 0
        while let headEnd = headEnd(in: bytes, from: start) {
            let head = String(decoding: bytes[start..<headEnd], as: UTF8.self)
            let lines = head.split(separator: "\r\n")
            guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1."),
                let status = Int(statusLine.dropFirst(9).prefix(3))
            else { return nil }
            if status >= 100 && status < 200 {
                start = headEnd
                continue
            }
            let length = lines.dropFirst().first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) }
            guard let length, bytes.count - headEnd >= length else { return nil }
            return (status, headEnd + length)
        }
        return nil
    }

    private static func headEnd(in bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 3 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index + 4 }
            index += 1
        }
        return nil
    }

    /// Gathers the bytes; the exchange ends at the first whole final response, at the close, or
    /// when its time is up.
    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        private let promise: EventLoopPromise<RawHTTPExchange>
        private let timeout: TimeAmount
        private var received: [UInt8] = []
        private var finished = false

        init(promise: EventLoopPromise<RawHTTPExchange>, timeout: TimeAmount) {
            self.promise = promise
            self.timeout = timeout
        }

        func channelActive(context: ChannelHandlerContext) {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: timeout) {
                let (collector, context) = loopBound.value
                collector.finish(peerClosed: false)
                context.close(promise: nil)
            }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received += buffer.readableBytesView
            if RawHTTPExchange.finalResponse(in: received) != nil { finish(peerClosed: false) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            finish(peerClosed: true)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A TLS session the server cut short is a close, as far as these tests go.
            finish(peerClosed: true)
            context.close(promise: nil)
        }

        private func finish(peerClosed: Bool) {
            guard !finished else { return }
            finished = true
            promise.succeed(RawHTTPExchange(response: received, peerClosed: peerClosed))
        }
    }
}
