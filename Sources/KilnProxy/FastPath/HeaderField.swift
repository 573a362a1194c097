/// The header fields the fast path acts on, recognised from their bytes without making a String:
/// most fields of most requests are none of these, and a length check settles them.
enum HeaderField: Equatable {
    case other
    case host, contentLength, transferEncoding, connection, upgrade, expect
    /// Hop-by-hop fields (RFC 9110 §7.6.1) other than those above: dropped by the proxy.
    case hopByHop
    /// Fields the proxy sets itself, dropped from what the client sent (but for X-Forwarded-For,
    /// which is extended).
    case xForwardedFor, proxySet
    case referer, userAgent

    /// Classifies the name in `bytes[start..<end]`, which the scanner checked is a token.
    static func classify(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> HeaderField {
        let name = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        switch name.count {
        case 2: return name.equalsLowercased("te") ? .hopByHop : .other
        case 4: return name.equalsLowercased("host") ? .host : .other
        case 6: return name.equalsLowercased("expect") ? .expect : .other
        case 7:
            if name.equalsLowercased("referer") { return .referer }
            if name.equalsLowercased("upgrade") { return .upgrade }
            return name.equalsLowercased("trailer") ? .hopByHop : .other
        case 10:
            if name.equalsLowercased("user-agent") { return .userAgent }
            if name.equalsLowercased("connection") { return .connection }
            return name.equalsLowercased("keep-alive") ? .hopByHop : .other
        case 14:
            if name.equalsLowercased("content-length") { return .contentLength }
            return name.equalsLowercased("x-original-uri") ? .proxySet : .other
        case 15: return name.equalsLowercased("x-forwarded-for") ? .xForwardedFor : .other
        case 16:
            if name.equalsLowercased("x-forwarded-host") { return .proxySet }
            return name.equalsLowercased("proxy-connection") ? .hopByHop : .other
        case 17:
            if name.equalsLowercased("transfer-encoding") { return .transferEncoding }
            return name.equalsLowercased("x-forwarded-proto") ? .proxySet : .other
        case 18: return name.equalsLowercased("proxy-authenticate") ? .hopByHop : .other
        case 19: return name.equalsLowercased("proxy-authorization") ? .hopByHop : .other
        default: return .other
        }
    }
}

extension UnsafeRawBufferPointer {
    /// Whether these token bytes, ASCII letters folded to lower case, are `literal` (lower-case
    /// letters and '-'). Setting bit 5 folds A-Z onto a-z; on the other token characters it never
    /// yields a letter or '-', so no other name can match.
    func equalsLowercased(_ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { expected in
            guard expected.count == count else { return false }
            for index in 0..<count where self[index] | 0x20 != expected[index] {
                return false
            }
            return true
        }
    }

    /// The comma-separated tokens of a field value, each trimmed: calls `body` with each.
    func forEachToken(_ start: Int, _ end: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        var tokenStart = start
        var index = start
        while index <= end {
            if index == end || self[index] == UInt8(ascii: ",") {
                var first = tokenStart
                var last = index
                while first < last, self[first] == 0x20 || self[first] == 0x09 { first += 1 }
                while last > first, self[last - 1] == 0x20 || self[last - 1] == 0x09 { last -= 1 }
                if first < last { body(UnsafeRawBufferPointer(rebasing: self[first..<last])) }
                tokenStart = index + 1
            }
            index += 1
        }
    }
}

extension UInt8 {
    /// tchar of RFC 9110 §5.6.2.
    var isTokenCharacter: Bool { HTTPBytes.tokenTable[Int(self)] }
}

enum HTTPBytes {
    static let tokenTable: [Bool] = (0..<256).map { byte in
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        default: "!#$%&'*+-.^_`|~".utf8.contains(UInt8(byte))
        }
    }
}
