/// Maintainer names are user names on the platform: printable, short, no separators that would
/// break a table or an e-mail header.
public enum MaintainerName {
    public static func validate(_ name: String) throws(KilnError) {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "@")
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed else {
            throw KilnError(
                .invalidName,
                "invalid maintainer name '\(name)': use 1 to 64 letters, digits, '-', '_', '.' or '@'",
                context: ["maintainer": name]
            )
        }
    }
}
