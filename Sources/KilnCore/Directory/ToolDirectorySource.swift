/// Where a front page gets the directory from: the control plane's store in its own process, or
/// its `GET /v1/directory` from a proxy's.
public protocol ToolDirectorySource: Sendable {
    func directory() async throws -> ToolDirectory
}
