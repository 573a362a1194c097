/// The reference reading of a request head that the fast path's must agree with: RFC 9112 read
/// plainly and strictly, with Strings, as slowly as it likes. It takes only what the fast path
/// means to take (HTTP/1.1, origin-form, one valid Host, at most one Content-Length, no
/// Transfer-Encoding), so where the fast path forwards a head it must have read it like this.
struct StrictRequestHead: Equatable {
    var headLength: Int
    var method: String
    var target: String
    var host: String
    var contentLength: Int
    var closes: Bool

    init?(_ bytes: [UInt8]) {
        guard let end = Self.headEnd(bytes) else { return nil }
        var lines = Self.lines(Array(bytes[0..<end - 2]))
        guard !lines.isEmpty else { return nil }
        let requestLine = lines.removeFirst()
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(Self.isToken),
            parts[1].first == UInt8(ascii: "/"), parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
            Array(parts[2]) == Array("HTTP/1.1".utf8)
        else { return nil }
        var hosts: [String] = []
        var lengths: [String] = []
        var closes = false
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0, line[..<colon].allSatisfy(Self.isToken) else { return nil }
            let raw = line[(colon + 1)...]
            guard raw.allSatisfy({ ($0 >= 0x20 && $0 != 0x7F) || $0 == 0x09 }) else { return nil }
            let value = String(decoding: raw, as: UTF8.self).withoutOWS
            switch String(decoding: line[..<colon], as: UTF8.self).lowercased() {
            case "host": hosts.append(value)
            case "content-length": lengths.append(value)
            case "transfer-encoding", "upgrade", "expect": return nil
            case "connection":
                for token in value.split(separator: ",").map({ String($0).withoutOWS.lowercased() }) where !token.isEmpty {
                    if token == "close" { closes = true } else if token != "keep-alive" { return nil }
                }
            default: break
            }
        }
        guard hosts.count == 1, let host = hosts.first, Self.isValidHost(host), lengths.count <= 1 else { return nil }
        var contentLength = 0
        if let length = lengths.first {
            guard !length.isEmpty, length.count <= 18, length.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(length) else {
                return nil
            }
            contentLength = value
        }
        self.headLength = end
        self.method = String(decoding: parts[0], as: UTF8.self)
        self.target = String(decoding: parts[1], as: UTF8.self)
        self.host = host
        self.contentLength = contentLength
        self.closes = closes
    }

    /// After the first CRLF CRLF; lines must then end in CRLF only (checked per line below).
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index + 3 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index + 4 }
            index += 1
        }
        return nil
    }

    /// Split on CRLF; a bare CR or LF stays in its line, where it fails the checks.
    static func lines(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var start = 0
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10 {
                lines.append(Array(bytes[start..<index]))
                start = index + 2
                index += 2
            } else {
                index += 1
            }
        }
        lines.append(Array(bytes[start...]))
        // The head given ends with its last line's CRLF: the element after it is empty.
        return Array(lines.dropLast())
    }

    static func isToken(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// uri-host [":" port], with IP literals in brackets.
    static func isValidHost(_ host: String) -> Bool {
        let regName = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%".utf8)
        var rest = Substring(host)
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return false }
            guard rest[rest.index(after: rest.startIndex)..<close].utf8.allSatisfy({ regName.contains($0) || $0 == UInt8(ascii: ":") }) else {
                return false
            }
            rest = rest[rest.index(after: close)...]
        } else {
            let name = rest.prefix { $0 != ":" }
            guard name.utf8.allSatisfy({ regName.contains($0) }) else { return false }
            rest = rest[name.endIndex...]
        }
        guard let colon = rest.first else { return true }
        return colon == ":" && rest.dropFirst().utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}

extension String {
    /// Without surrounding spaces and tabs (RFC 9110 §5.5's OWS).
    fileprivate var withoutOWS: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
