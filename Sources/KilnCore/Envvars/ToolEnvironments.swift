import Synchronization

/// Every tool's envvars as its processes get them, in memory: the control plane updates it on
/// every change (after the store has it), and each job run or webservice replica reads its
/// tool's at its start, so a changed value reaches the next start without a store read there.
public final class ToolEnvironments: Sendable {
    private let environments = Mutex<[ToolName: [String: String]]>([:])

    public init() {}

    /// The environment a new process of `tool` gets from its envvars.
    public func of(_ tool: ToolName) -> [String: String] {
        environments.withLock { $0[tool] ?? [:] }
    }

    public func set(_ environment: [String: String], for tool: ToolName) {
        environments.withLock { $0[tool] = environment.isEmpty ? nil : environment }
    }

    /// A process's environment: the tool's envvars over the defaults (a tool may set its own
    /// PATH or LANG), the platform's variables (identity, port, replica) over both.
    public static func layered(defaults: [String: String], tool: [String: String], platform: [String: String]) -> [String: String] {
        defaults.merging(tool) { _, tool in tool }.merging(platform) { _, platform in platform }
    }
}
