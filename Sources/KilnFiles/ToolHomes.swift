import KilnCore

/// Where tools' homes are (`DATA/tools/NAME`), and each home as a `ConfinedDirectory` owned by
/// its tool, the one way the platform reaches files in it.
public struct ToolHomes: Sendable, Hashable {
    /// `DATA/tools`: the platform's folder (root's), so no tool can swap a home for a link.
    public let root: String

    public init(root: String) { self.root = root }

    public func path(of tool: ToolName) -> String { root + "/" + tool.rawValue }

    public func files(of tool: Tool) -> ConfinedDirectory {
        ConfinedDirectory(path: path(of: tool.name), owner: FileOwner(tool.unixUser))
    }
}
