import KilnCore
import Testing

@Suite struct RouteBackendPolicyTests {
    static let server: UInt32 = 0
    static let toolUID: UInt32 = 50_001
    static let otherUID: UInt32 = 50_002
    let policy = RouteBackendPolicy(
        serverUID: server,
        serverListeners: [HostPort(host: "127.0.0.1", port: 8000), HostPort(host: "0.0.0.0", port: 80)])
    let tool: ToolName

    init() throws { tool = try ToolName("own") }

    /// A kernel where `owners` lists who listens where; the count of questions asked.
    final class Kernel {
        var owners: [LoopbackEndpoint: UInt32]
        var questions = 0
        init(_ owners: [LoopbackEndpoint: UInt32]) { self.owners = owners }
        func listener(_ endpoint: LoopbackEndpoint) -> ListenerOwnership {
            questions += 1
            return owners[endpoint].map { .owned(uid: $0) } ?? .none
        }
    }

    func endpoint(_ text: String) throws -> LoopbackEndpoint {
        try #require(LoopbackEndpoint(try HostPort(parsing: text)))
    }

    func check(
        _ backend: String, caller: Principal? = nil, identity: RouteBackendPolicy.ToolIdentity = .ownUser(uid: toolUID),
        platform: RouteBackendPolicy.PlatformBackends = .init(), kernel: Kernel
    ) throws(KilnError) {
        let backend = try HostPort(parsing: backend)
        try policy.check(
            backend, of: tool, caller: caller ?? .tool(tool), identity: identity, platform: platform, listener: kernel.listener)
    }

    @Test func theAdminRoutesAnywhereWithoutAsking() throws {
        let kernel = Kernel([:])
        for backend in ["10.0.0.1:80", "169.254.169.254:80", "127.0.0.1:8000", "example.org:443", "127.0.0.1:9"] {
            try check(backend, caller: .admin, kernel: kernel)
        }
        #expect(kernel.questions == 0)
    }

    @Test(arguments: ["10.0.0.1:80", "169.254.169.254:80", "0.0.0.0:8080", "example.org:443", "[::]:8080", "[fe80::1]:80"])
    func aToolMayNotLeaveTheLoopbackInterface(backend: String) throws {
        let kernel = Kernel([:])
        let error = #expect(throws: KilnError.self) { try check(backend, kernel: kernel) }
        #expect(error?.code == .forbidden)
        #expect(error?.message.contains("loopback") == true)
        #expect(kernel.questions == 0)
    }

    @Test func thePlatformsOwnListenersAreNeverATools() throws {
        // Even were the tool to own a socket there (it cannot: they are the server's).
        let kernel = Kernel([try endpoint("127.0.0.1:8000"): Self.toolUID, try endpoint("127.0.0.1:80"): Self.toolUID])
        for backend in ["127.0.0.1:8000", "localhost:80", "127.0.0.2:8000"] {
            let error = #expect(throws: KilnError.self) { try check(backend, kernel: kernel) }
            #expect(error?.message == "\(backend) is a listener of the platform itself, not of tool 'own'")
        }
    }

    @Test func aToolRoutesToItsOwnListener() throws {
        let kernel = Kernel([try endpoint("127.0.0.1:9001"): Self.toolUID, try endpoint("[::1]:9002"): Self.toolUID])
        try check("127.0.0.1:9001", kernel: kernel)
        try check("localhost:9001", kernel: kernel)
        try check("[::1]:9002", kernel: kernel)
    }

    @Test func anotherUsersListenerIsRefusedNamingItsOwner() throws {
        let kernel = Kernel([try endpoint("127.0.0.1:9001"): Self.otherUID, try endpoint("127.0.0.1:9003"): Self.server])
        let error = #expect(throws: KilnError.self) { try check("127.0.0.1:9001", kernel: kernel) }
        #expect(error?.code == .forbidden)
        #expect(error?.message == "127.0.0.1:9001 is not a listener of tool 'own': its listening socket belongs to uid 50002")
        #expect(error?.context["owner_uid"] == "50002")
        #expect(throws: KilnError.self) { try check("127.0.0.1:9003", kernel: kernel) }
    }

    @Test func nothingListeningIsRefusedUnlessThePlatformAllocatedIt() throws {
        let kernel = Kernel([:])
        let error = #expect(throws: KilnError.self) { try check("127.0.0.1:9004", kernel: kernel) }
        #expect(error?.message.hasPrefix("nothing listens at 127.0.0.1:9004") == true)
        try check("127.0.0.1:9004", platform: .init(tool: [try endpoint("127.0.0.1:9004")]), kernel: kernel)
    }

    @Test func aLookupThatFailsIsUnavailableNotAllowed() throws {
        let backend = try HostPort(parsing: "127.0.0.1:9005")
        let error = #expect(throws: KilnError.self) {
            try policy.check(backend, of: tool, caller: .tool(tool), identity: .ownUser(uid: Self.toolUID), platform: .init()) { _ in
                .unknown("no netlink")
            }
        }
        #expect(error?.code == .unavailable)
    }

    @Test func singleUserModeAllowsTheServersUserButNotAnotherToolsPorts() throws {
        let kernel = Kernel([
            try endpoint("127.0.0.1:9101"): Self.server, try endpoint("127.0.0.1:9102"): Self.server,
            try endpoint("127.0.0.1:9103"): Self.otherUID,
        ])
        let platform = RouteBackendPolicy.PlatformBackends(
            tool: [try endpoint("127.0.0.1:9100")], otherTools: [try endpoint("127.0.0.1:9102")])
        try check("127.0.0.1:9100", identity: .server, platform: platform, kernel: kernel)
        try check("127.0.0.1:9101", identity: .server, platform: platform, kernel: kernel)
        let taken = #expect(throws: KilnError.self) { try check("127.0.0.1:9102", identity: .server, platform: platform, kernel: kernel) }
        #expect(taken?.message == "127.0.0.1:9102 is a port the platform gave another tool, not tool 'own'")
        #expect(throws: KilnError.self) { try check("127.0.0.1:9103", identity: .server, platform: platform, kernel: kernel) }
        #expect(throws: KilnError.self) { try check("127.0.0.1:8000", identity: .server, platform: platform, kernel: kernel) }
    }

    @Test func theOwnerCheckedAtConnectTimeIsTheToolsOrTheServers() {
        #expect(policy.backendOwner(of: .ownUser(uid: Self.toolUID)) == .uid(Self.toolUID))
        #expect(policy.backendOwner(of: .server) == .uid(Self.server))
        #expect(BackendOwner.uid(Self.toolUID).admits(Self.toolUID))
        #expect(!BackendOwner.uid(Self.toolUID).admits(Self.otherUID))
        #expect(!BackendOwner.uid(Self.toolUID).admits(nil))
        #expect(BackendOwner.anyone.admits(nil))
    }
}
