/// Who is calling the control plane, once authenticated.
public enum Principal: Sendable, Hashable, CustomStringConvertible {
    /// The platform's operator: may act on every tool.
    case admin
    /// A tool's credential: may act on that tool alone.
    case tool(ToolName)

    public var description: String {
        switch self {
        case .admin: "admin"
        case .tool(let name): "tool \(name)"
        }
    }

    /// Refuses (403) a caller acting on a tool that is not its own.
    public func authorize(actingOn tool: ToolName) throws(KilnError) {
        switch self {
        case .admin:
            return
        case .tool(let own) where own == tool:
            return
        case .tool(let own):
            throw KilnError(
                .forbidden,
                "tool '\(own)' may not act on tool '\(tool)'",
                context: ["caller": own.rawValue, "tool": tool.rawValue]
            )
        }
    }

    /// Refuses (403) a caller that is not the operator.
    public func authorizeAdmin(for action: String) throws(KilnError) {
        guard case .tool(let own) = self else { return }
        throw KilnError(
            .forbidden,
            "\(action) needs the admin credential; tool '\(own)' may not do it",
            context: ["caller": own.rawValue]
        )
    }
}
