import NIOCore
import NIOPosix
import Synchronization

/// A fake SMTP server on a loopback port for the failures a well-behaved server never shows:
/// it sends `greeting` (raw bytes, possibly nothing), then answers each command line as `answer`
/// says, and remembers the commands it got.
final class ScriptedSMTPServer: Sendable {
    enum Response: Sendable {
        case reply(String)
        case replyAndClose(String)
        case silence
    }

    let port: Int
    private let channel: any Channel
    private let received = Received()

    private final class Received: Sendable {
        let lines = Mutex<[String]>([])
    }

    init(greeting: String, answer: @escaping @Sendable (String) -> Response = { _ in .silence }) async throws {
        let received = self.received
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Handler(greeting: greeting, answer: answer, received: { line in received.lines.withLock { $0.append(line) } }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress!.port!
    }

    var commands: [String] { received.lines.withLock { $0 } }

    func close() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let greeting: String
        let answer: @Sendable (String) -> Response
        let received: @Sendable (String) -> Void
        var pending: [UInt8] = []

        init(greeting: String, answer: @escaping @Sendable (String) -> Response, received: @escaping @Sendable (String) -> Void) {
            self.greeting = greeting
            self.answer = answer
            self.received = received
        }

        func channelActive(context: ChannelHandlerContext) {
            if !greeting.isEmpty { context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: greeting)), promise: nil) }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            pending += unwrapInboundIn(data).readableBytesView
            while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<end], as: UTF8.self).trimmingSuffix("\r")
                pending.removeFirst(end + 1)
                received(line)
                switch answer(line) {
                case .reply(let text):
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
                case .replyAndClose(let text):
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
                    context.close(promise: nil)
                    return
                case .silence:
                    break
                }
            }
        }
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
