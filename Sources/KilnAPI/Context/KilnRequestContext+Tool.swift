import KilnCore

extension KilnRequestContext {
    /// The tool the route names, which the caller must be (or an admin): what every
    /// `/v1/tools/{tool}/…` route of a tool's own things starts with.
    func authorizedTool() throws -> ToolName {
        let tool = try ToolsController.toolName(self)
        try caller().authorize(actingOn: tool)
        return tool
    }
}
