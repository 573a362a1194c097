/// What a backend received, read strictly (RFC 9112): the reading a careful backend makes, against
/// which every other reading must agree. Bytes the proxy forwards are either nothing, one request
/// whose framing only this reading allows, or the start of one on a connection the proxy then
/// closed (a backend must drop an incomplete request); anything else could be read another way.
enum ForwardedRequestReading: Equatable, CustomStringConvertible {
    case nothing
    case oneRequest(requestLine: String)
    case truncated
    case ambiguous(String)

    var description: String {
        switch self {
        case .nothing: "nothing"
        case .oneRequest(let line): "one request (\(line))"
        case .truncated: "an unfinished request, then the close"
        case .ambiguous(let reason): "AMBIGUOUS: \(reason)"
        }
    }

    var isSafe: Bool {
        switch self {
        case .nothing, .oneRequest, .truncated: true
        case .ambiguous: false
        }
    }

    /// Reads the bytes of each backend connection (in order) and whether it was closed.
    static func read(_ connections: [(data: [UInt8], closed: Bool)]) -> ForwardedRequestReading {
        let used = connections.filter { !$0.data.isEmpty }
        guard let only = used.first else { return .nothing }
        guard used.count == 1 else { return .ambiguous("bytes on \(used.count) backend connections") }
        return read(only.data, closed: only.closed)
    }

    static func read(_ bytes: [UInt8], closed: Bool) -> ForwardedRequestReading {
        var reader = Reader(bytes: bytes)
        let unfinished: ForwardedRequestReading = closed ? .truncated : .ambiguous("an unfinished request on an open connection")
        guard let requestLine = reader.line() else { return unfinished }
        guard let problem = requestLineProblem(requestLine) else {
            return readFields(&reader, requestLine: String(decoding: requestLine, as: UTF8.self), unfinished: unfinished)
        }
        return .ambiguous(problem)
    }

    private static func requestLineProblem(_ line: [UInt8]) -> String? {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return "a request line of \(parts.count) parts" }
        guard !parts[0].isEmpty, parts[0].allSatisfy(isTokenCharacter) else { return "a method that is not a token" }
        guard parts[1].first == UInt8(ascii: "/"), parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return "a target not in origin-form: \(String(decoding: parts[1], as: UTF8.self))"
        }
        guard Array(parts[2]) == Array("HTTP/1.1".utf8) else { return "version \(String(decoding: parts[2], as: UTF8.self))" }
        return nil
    }

    private static func readFields(_ reader: inout Reader, requestLine: String, unfinished: ForwardedRequestReading) -> ForwardedRequestReading {
        var hosts: [[UInt8]] = []
        var lengths: [[UInt8]] = []
        var encodings: [[UInt8]] = []
        while true {
            guard let line = reader.line() else { return unfinished }
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0,
                line[..<colon].allSatisfy(isTokenCharacter)
            else { return .ambiguous("a field line that is not name:value: \(String(decoding: line, as: UTF8.self).debugDescription)") }
            var value = Array(line[(colon + 1)...])
            guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else { return .ambiguous("a control character in a value") }
            while let first = value.first, first == 0x20 || first == 0x09 { value.removeFirst() }
            while let last = value.last, last == 0x20 || last == 0x09 { value.removeLast() }
            switch String(decoding: line[..<colon], as: UTF8.self).lowercased() {
            case "host": hosts.append(value)
            case "content-length": lengths.append(value)
            case "transfer-encoding": encodings.append(value)
            default: break
            }
        }
        guard hosts.count == 1, let host = hosts.first, isValidHost(host) else { return .ambiguous("\(hosts.count) Host fields, or an invalid one") }
        guard lengths.count <= 1, encodings.count <= 1, lengths.isEmpty || encodings.isEmpty else {
            return .ambiguous("\(lengths.count) Content-Length and \(encodings.count) Transfer-Encoding fields")
        }
        if let encoding = encodings.first {
            guard String(decoding: encoding, as: UTF8.self).lowercased() == "chunked" else {
                return .ambiguous("Transfer-Encoding: \(String(decoding: encoding, as: UTF8.self))")
            }
            return readChunked(&reader, requestLine: requestLine, unfinished: unfinished)
        }
        var length = 0
        if let digits = lengths.first {
            guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let value = Int(String(decoding: digits, as: UTF8.self))
            else { return .ambiguous("Content-Length: \(String(decoding: digits, as: UTF8.self))") }
            length = value
        }
        guard reader.remaining >= length else { return unfinished }
        guard reader.remaining == length else { return .ambiguous("\(reader.remaining - length) bytes after the request") }
        return .oneRequest(requestLine: requestLine)
    }

    private static func readChunked(_ reader: inout Reader, requestLine: String, unfinished: ForwardedRequestReading) -> ForwardedRequestReading {
        while true {
            guard let line = reader.line() else { return unfinished }
            let sizeDigits = line.prefix { $0 != UInt8(ascii: ";") }
            guard !sizeDigits.isEmpty, sizeDigits.count <= 15, let size = Int(String(decoding: sizeDigits, as: UTF8.self), radix: 16),
                sizeDigits.allSatisfy({ UInt8(ascii: "0")...UInt8(ascii: "9") ~= $0 || UInt8(ascii: "a")...UInt8(ascii: "f") ~= $0 | 0x20 }),
                line.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 })
            else { return .ambiguous("chunk line \(String(decoding: line, as: UTF8.self).debugDescription)") }
            if size == 0 { break }
            guard reader.remaining >= size + 2 else { return unfinished }
            reader.skip(size)
            guard reader.line()?.isEmpty == true else { return .ambiguous("a chunk longer than its size") }
        }
        while true {
            guard let line = reader.line() else { return unfinished }
            if line.isEmpty { break }
        }
        guard reader.remaining == 0 else { return .ambiguous("\(reader.remaining) bytes after the request") }
        return .oneRequest(requestLine: requestLine)
    }

    /// uri-host [":" port] of RFC 9110 §7.2, for the reg-names and IPv4 addresses these tests use.
    static func isValidHost(_ host: [UInt8]) -> Bool {
        var name = host[...]
        if let colon = host.lastIndex(of: UInt8(ascii: ":")) {
            guard host[(colon + 1)...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
            name = host[..<colon]
        }
        return !name.isEmpty && name.allSatisfy { byte in
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
            default: "-._~!$&'()*+,;=%".utf8.contains(byte)
            }
        }
    }

    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// Lines end with CRLF only: a bare CR or LF anywhere in a line makes the line unreadable.
    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var remaining: Int { bytes.count - offset }

        /// The next line without its CRLF; nil when no CRLF ends it yet. A bare LF or CR inside is
        /// left in the line, where the checks above refuse it as a control character.
        mutating func line() -> [UInt8]? {
            var index = offset
            while index + 1 < bytes.count {
                if bytes[index] == 13, bytes[index + 1] == 10 {
                    let line = Array(bytes[offset..<index])
                    offset = index + 2
                    return line
                }
                index += 1
            }
            return nil
        }

        mutating func skip(_ count: Int) { offset += count }
    }
}
