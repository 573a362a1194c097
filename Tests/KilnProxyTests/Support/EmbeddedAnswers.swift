import NIOCore
import NIOEmbedded
import NIOHTTP1

@testable import KilnProxy

/// What the fast path answers to `request`, as bytes, on a connection of its own.
func fastPathAnswer(_ request: String, shared: ProxyShared) throws -> String {
    let channel = EmbeddedChannel()
    let upstreams = LoopUpstreams(eventLoop: channel.eventLoop, routes: shared.routes, connectTimeout: .seconds(1))
    try channel.pipeline.syncOperations.addHandler(FastPathHandler(shared: shared, upstreams: upstreams, scheme: "http"))
    try channel.writeInbound(ByteBuffer(string: request))
    var written = ""
    while let part = try channel.readOutbound(as: ByteBuffer.self) { written += String(buffer: part) }
    _ = try? channel.finish()
    return written
}

/// What the general path answers to `head` (a request without a body): its head and body.
func generalPathAnswer(_ head: HTTPRequestHead, shared: ProxyShared) throws -> (head: HTTPResponseHead?, body: String) {
    let channel = EmbeddedChannel()
    let upstreams = LoopUpstreams(eventLoop: channel.eventLoop, routes: shared.routes, connectTimeout: .seconds(1))
    try channel.pipeline.syncOperations.addHandler(ProxyHandler(shared: shared, upstreams: upstreams, scheme: "http"))
    try channel.writeInbound(HTTPServerRequestPart.head(head))
    try channel.writeInbound(HTTPServerRequestPart.end(nil))
    var response: HTTPResponseHead?
    var body = ""
    while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
        switch part {
        case .head(let head): response = head
        case .body(.byteBuffer(let buffer)): body += String(buffer: buffer)
        case .body, .end: break
        }
    }
    _ = try? channel.finish()
    return (response, body)
}
