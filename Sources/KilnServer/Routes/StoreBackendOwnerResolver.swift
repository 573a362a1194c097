import KilnCore
import KilnProxy
import KilnStore

/// The server's answer to whose listeners a tool's backends must be: the tool's uid in the store,
/// or the server's own for a tool without a user (single-user mode, where tools run as the
/// server's user). The landing site's routes and keys that are no tool (written into Redis by
/// other software) are the operator's: not checked.
struct StoreBackendOwnerResolver: BackendOwnerResolver {
    let store: KilnStore
    let serverUID: UInt32

    func owners(of tools: [String]) async -> [String: BackendOwner] {
        // A snapshot names many tools: one read of them all; a change names one.
        var known: [Tool] = []
        if tools.count > 1 {
            known = (try? await store.tools()) ?? []
        } else if let name = tools.first.flatMap({ try? ToolName($0) }), let tool = try? await store.tool(named: name) {
            known = [tool]
        }
        var owners: [String: BackendOwner] = [:]
        for tool in known where tool.name.rawValue != RouteTable.fallbackTool {
            owners[tool.name.rawValue] = .processes(of: tool.unixUser, serverUID: serverUID)
        }
        return owners
    }
}
