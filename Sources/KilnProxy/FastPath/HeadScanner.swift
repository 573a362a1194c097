/// Reads an HTTP/1 head's lines in place (RFC 9112 §2.2, §5), strictly: CRLF line ends only, no
/// obs-fold, no whitespace before the colon, no control characters in values. What it refuses the
/// fast path does not guess at: it hands the connection to the general path, whose parser answers.
enum HeadScanner {
    /// One field line: offsets into the head's bytes; the value is trimmed of surrounding whitespace.
    struct FieldLine: Equatable {
        var start: Int
        var nameEnd: Int
        var valueStart: Int
        var valueEnd: Int
        /// Where the next line starts.
        var next: Int
    }

    enum Step: Equatable {
        case field(FieldLine)
        /// The blank line that ends the head; the body starts at `next`.
        case end(next: Int)
        case incomplete
        case invalid
    }

    static func fieldLine(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Step {
        let count = bytes.count
        guard start < count else { return .incomplete }
        if bytes[start] == .cr {
            guard start + 1 < count else { return .incomplete }
            return bytes[start + 1] == .lf ? .end(next: start + 2) : .invalid
        }
        var index = start
        while index < count, bytes[index].isTokenCharacter { index += 1 }
        guard index < count else { return .incomplete }
        guard index > start, bytes[index] == UInt8(ascii: ":") else { return .invalid }
        let nameEnd = index
        index += 1
        while index < count, bytes[index] == .space || bytes[index] == .tab { index += 1 }
        let valueStart = index
        while index < count {
            let byte = bytes[index]
            if byte == .cr { break }
            guard byte >= 0x20 && byte != 0x7F || byte == .tab else { return .invalid }
            index += 1
        }
        guard index + 1 < count else { return .incomplete }
        guard bytes[index + 1] == .lf else { return .invalid }
        var valueEnd = index
        while valueEnd > valueStart, bytes[valueEnd - 1] == .space || bytes[valueEnd - 1] == .tab { valueEnd -= 1 }
        return .field(FieldLine(start: start, nameEnd: nameEnd, valueStart: valueStart, valueEnd: valueEnd, next: index + 2))
    }

    /// A decimal length of at most 18 digits (so it cannot overflow); nil for anything else.
    static func decimal(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        guard end > start, end - start <= 18 else { return nil }
        var value = 0
        for index in start..<end {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }
}

extension UInt8 {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
}
