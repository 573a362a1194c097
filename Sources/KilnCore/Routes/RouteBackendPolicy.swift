/// Who may route where: decided when a route is registered.
///
/// The admin may route anywhere. A tool's backend must be on the loopback interface (nothing else
/// on this host can be checked, and link-local or other hosts are not the tool's), never one of
/// the platform's own listeners (the API, the proxy), and be the tool's: a port the platform
/// allocated to the tool (its replicas), or one whose listening socket belongs to the tool's uid.
///
/// In single-user mode (no per-tool Unix users: tools run as the server's uid) the kernel cannot
/// tell tools apart, so a tool gets its allocated ports, plus listeners of the server's uid that
/// are neither the platform's own nor allocated to another tool. That keeps tools off the API,
/// the proxy, other users' services and each other's replicas; it cannot keep them off a port
/// another tool bound by hand, which single-user mode does not wall off anyway (tools share a uid).
public struct RouteBackendPolicy: Sendable {
    /// Whom a tool's processes run as.
    public enum ToolIdentity: Sendable, Hashable {
        /// Its own Unix user.
        case ownUser(uid: UInt32)
        /// The server's user (single-user mode).
        case server
    }

    /// What the platform started on the loopback interface: the tool's, and every other tool's.
    public struct PlatformBackends: Sendable {
        public var tool: Set<LoopbackEndpoint>
        public var otherTools: Set<LoopbackEndpoint>

        public init(tool: Set<LoopbackEndpoint> = [], otherTools: Set<LoopbackEndpoint> = []) {
            self.tool = tool
            self.otherTools = otherTools
        }
    }

    public let serverUID: UInt32
    /// The ports of the platform's own listeners (the API, the proxy's HTTP and HTTPS).
    public let serverPorts: Set<Int>

    public init(serverUID: UInt32, serverListeners: [HostPort]) {
        self.serverUID = serverUID
        serverPorts = Set(serverListeners.map(\.port))
    }

    /// Who must own the tool's listeners when the proxy connects to them.
    public func backendOwner(of identity: ToolIdentity) -> BackendOwner {
        switch identity {
        case .ownUser(let uid): .uid(uid)
        case .server: .uid(serverUID)
        }
    }

    /// Throws (403, naming the backend and what was found there) unless `caller` may route
    /// `tool`'s pattern to `backend`. `listener` asks the kernel; it is called at most once.
    public func check(
        _ backend: HostPort, of tool: ToolName, caller: Principal, identity: ToolIdentity, platform: PlatformBackends,
        listener: (LoopbackEndpoint) -> ListenerOwnership
    ) throws(KilnError) {
        switch caller {
        case .admin: return
        case .tool: break
        }
        let context = ["tool": tool.rawValue, "backend": backend.description]
        guard let endpoint = LoopbackEndpoint(backend) else {
            throw KilnError(
                .forbidden,
                "\(backend) is not a port on this host's loopback interface: a tool's route may point only at a listener of the tool on 127.0.0.0/8 or [::1]",
                context: context)
        }
        guard !serverPorts.contains(endpoint.port) else {
            throw KilnError(.forbidden, "\(backend) is a listener of the platform itself, not of tool '\(tool)'", context: context)
        }
        if platform.tool.contains(endpoint) { return }
        let expected: UInt32
        switch identity {
        case .ownUser(let uid):
            expected = uid
        case .server:
            guard !platform.otherTools.contains(endpoint) else {
                throw KilnError(.forbidden, "\(backend) is a port the platform gave another tool, not tool '\(tool)'", context: context)
            }
            expected = serverUID
        }
        switch listener(endpoint) {
        case .owned(let uid) where uid == expected:
            return
        case .owned(let uid):
            throw KilnError(
                .forbidden, "\(backend) is not a listener of tool '\(tool)': its listening socket belongs to uid \(uid)",
                context: context.merging(["owner_uid": String(uid)]) { $1 })
        case .none:
            throw KilnError(
                .forbidden, "nothing listens at \(backend): start tool '\(tool)'s server there first, then add the route",
                context: context)
        case .unknown(let reason):
            throw KilnError(.unavailable, "cannot tell who listens at \(backend): \(reason)", context: context)
        }
    }
}
