import KilnCore

/// The addresses Kiln sends from and to: a bare `local@domain` (RFC 5321's Mailbox without quoted
/// local parts), ASCII only, since the client does not negotiate SMTPUTF8. The same text goes into
/// the envelope and the headers, so anything that could end a command or a header line is refused.
enum MailAddress {
    /// atext of RFC 5322, the characters a dot-atom local part is made of, besides letters and digits.
    private static let atextSymbols = Set("!#$%&'*+-/=?^_`{|}~".utf8)

    static func validate(_ address: String, field: String) throws(KilnError) {
        func invalid(_ why: String) -> KilnError {
            KilnError(
                .invalidAddress, "invalid mail address '\(address)' in \(field): \(why)",
                context: ["address": address, "field": field])
        }
        let bytes = Array(address.utf8)
        guard !bytes.isEmpty else { throw invalid("it is empty") }
        guard bytes.count <= 254 else { throw invalid("it is longer than 254 bytes") }
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw invalid("only printable ASCII without spaces or line breaks is accepted")
        }
        guard let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { throw invalid("it has no @") }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        guard !local.isEmpty, local.count <= 64 else { throw invalid("the part before @ must be 1 to 64 bytes") }
        // A dot-atom: atext runs joined by single dots.
        let atoms = local.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        let localIsDotAtom = atoms.allSatisfy { atom in
            !atom.isEmpty && atom.allSatisfy { isAlphanumeric($0) || atextSymbols.contains($0) }
        }
        guard localIsDotAtom else { throw invalid("the part before @ has a character or dot that is not allowed") }
        guard isDomain(domain) else { throw invalid("the part after @ is not a domain name or [address literal]") }
    }

    /// A host name (`localhost` or labels joined by dots) or an address literal such as `[127.0.0.1]`.
    static func isDomain(_ domain: some BidirectionalCollection<UInt8>) -> Bool {
        guard !domain.isEmpty else { return false }
        if domain.first == UInt8(ascii: "[") {
            let inside = domain.dropFirst().dropLast()
            return domain.last == UInt8(ascii: "]") && !inside.isEmpty
                && inside.allSatisfy { $0 > 0x20 && $0 < 0x7F && !"[]\\".utf8.contains($0) }
        }
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
