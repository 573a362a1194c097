/// The Unix user (and group) name of a tool: `tools.NAME`, as on Toolforge.
///
/// useradd refuses names longer than 32 characters, and a tool name may itself be 32 long, so a long
/// tool name is shortened to a prefix plus a stable hash of the whole name: the mapping stays
/// one-to-one and is the same on every machine.
public enum UnixAccountName {
    public static let prefix = "tools."
    public static let maximumLength = 32

    public static func forTool(_ tool: ToolName, prefix: String = UnixAccountName.prefix) -> String {
        let full = prefix + tool.rawValue
        if full.utf8.count <= maximumLength { return full }
        let hash = String(fnv1a32(tool.rawValue), radix: 16)
        let padded = String(repeating: "0", count: 8 - hash.count) + hash
        let keep = maximumLength - prefix.utf8.count - 1 - padded.count
        return prefix + String(tool.rawValue.prefix(keep)) + "-" + padded
    }

    static func fnv1a32(_ text: String) -> UInt32 {
        var hash: UInt32 = 0x811C_9DC5
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        return hash
    }
}
