/// A job as the store keeps it: the declaration, when it was made, and (for a scheduled job) the
/// last tick claimed, so that no tick runs twice across a restart of the platform.
public struct JobRecord: Sendable, Hashable, Codable {
    public var tool: ToolName
    public var spec: JobSpec
    /// Seconds since 1970 of the `run` or `load` that declared it (as it is now).
    public var declaredAt: Double
    /// Seconds since 1970 of the last tick claimed (scheduled jobs).
    public var lastTick: Double?

    public init(tool: ToolName, spec: JobSpec, declaredAt: Double, lastTick: Double? = nil) {
        self.tool = tool
        self.spec = spec
        self.declaredAt = declaredAt
        self.lastTick = lastTick
    }

    public var name: String { spec.name }
}
