/// The Host field's syntax (RFC 9110 §7.2, RFC 3986 §3.2.2): `uri-host [":" port]`. RFC 9112 §3.2
/// has a server answer 400 to an invalid one; a proxy that routed by a Host its backend reads
/// differently (`a b`, `user@tool.example`) would hand the backend a host it never checked.
/// Walked over bytes with a table, without allocating: the fast path checks every request's.
enum HostSyntax {
    /// Whether `bytes[start..<end]` (the trimmed field value) is a valid Host. Empty is valid: a
    /// client with no authority to name sends it so (§7.2).
    static func isValid(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        var index = start
        if index < end, bytes[index] == UInt8(ascii: "[") {
            // IP-literal: what may stand inside is checked loosely (hex digits, ':', '.', and
            // IPvFuture's characters); what matters is that no delimiter hides in it.
            index += 1
            while index < end, bytes[index] != UInt8(ascii: "]") {
                guard Self.registeredNameTable[Int(bytes[index])] || bytes[index] == UInt8(ascii: ":") else { return false }
                index += 1
            }
            guard index < end else { return false }
            index += 1
        } else {
            while index < end, Self.registeredNameTable[Int(bytes[index])] { index += 1 }
        }
        guard index < end else { return true }
        guard bytes[index] == UInt8(ascii: ":") else { return false }
        index += 1
        while index < end {
            guard bytes[index] &- UInt8(ascii: "0") < 10 else { return false }
            index += 1
        }
        return true
    }

    static func isValid(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { isValid(UnsafeRawBufferPointer($0), 0, $0.count) }
    }

    /// reg-name's characters: unreserved, sub-delims and '%' of pct-encoded.
    static let registeredNameTable: [Bool] = (0..<256).map { byte in
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        default: "-._~!$&'()*+,;=%".utf8.contains(UInt8(byte))
        }
    }
}
