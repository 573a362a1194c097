import KilnCore
import KilnProxy

#if canImport(Glibc)
import Glibc
#endif

/// A proxy fed from Redis has no store: a tool's backends must be the listeners of its Unix
/// account (`tools.NAME`, looked up by name once per route change, then cached by the proxy). A
/// key that is no tool with an account (routes other software wrote) is not checked.
struct AccountBackendOwnerResolver: BackendOwnerResolver {
    let userPrefix: String

    func owners(of tools: [String]) async -> [String: BackendOwner] {
        var owners: [String: BackendOwner] = [:]
        for tool in tools where tool != RouteTable.fallbackTool {
            guard let name = try? ToolName(tool), let uid = Self.uid(ofUser: UnixAccountName.forTool(name, prefix: userPrefix)) else {
                continue
            }
            owners[tool] = .uid(uid)
        }
        return owners
    }

    /// getpwnam_r: the reentrant lookup, since feeds run on any thread.
    static func uid(ofUser name: String) -> UInt32? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let status = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else { return nil }
        return entry.pw_uid
    }
}
