import NIOCore

extension LocalResponse {
    /// The response as HTTP/1.1 bytes, for the handlers that write bytes rather than NIOHTTP1 parts.
    func http1Bytes(includeBody: Bool, close: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        let length = body.utf8.count
        var buffer = allocator.buffer(
            capacity: 160 + (location?.utf8.count ?? 0) + (contentSecurityPolicy?.utf8.count ?? 0) + (includeBody ? length : 0))
        buffer.writeString("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\nContent-Type: \(contentType)\r\nContent-Length: \(length)\r\n")
        if let location { buffer.writeString("Location: \(location)\r\n") }
        if let retryAfter { buffer.writeString("Retry-After: \(retryAfter)\r\n") }
        if let contentSecurityPolicy { buffer.writeString("Content-Security-Policy: \(contentSecurityPolicy)\r\n") }
        if close { buffer.writeStaticString("Connection: close\r\n") }
        buffer.writeStaticString("\r\n")
        if includeBody { buffer.writeString(body) }
        return buffer
    }
}
