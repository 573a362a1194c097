import Foundation
import Hummingbird
import HummingbirdTesting
import KilnAPI
import KilnAccounts
import KilnCore
import KilnStore
import KilnTesting
import NIOCore
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `POST /v1/tools/TOOL/routes` refuses a tool's backend it does not own, with real listeners of
/// real users (the tests run as root; tools' users are uids without accounts, through setpriv).
@Suite(.serialized) struct RouteBackendAdmissionTests {
    static let ownerUID: UInt32 = 65534
    static let otherUID: UInt32 = 65533

    struct Fixture {
        let application: Application<RouterResponder<KilnRequestContext>>
        let adminToken = AccessToken.generate()
        let ownerToken = AccessToken.generate()
        let sharedToken = AccessToken.generate()
        /// Root's listeners standing for the API and the proxy.
        let api: any Channel
        let proxy: any Channel

        init() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-own-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let store = try KilnStore(path: directory + "/kiln.sqlite")
            try await store.createTool(
                Tool(
                    name: try ToolName("owna"), maintainers: [],
                    unixUser: UnixIdentity(name: "tools.owna", uid: RouteBackendAdmissionTests.ownerUID, gid: RouteBackendAdmissionTests.ownerUID), createdAt: 0),
                tokenHash: AccessToken.digest(ownerToken))
            // Created without a user: single-user mode, its processes are the server's.
            try await store.createTool(
                Tool(name: try ToolName("ownshared"), maintainers: [], unixUser: nil, createdAt: 0),
                tokenHash: AccessToken.digest(sharedToken))
            api = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
            proxy = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "0.0.0.0", port: 0).get()
            let listeners = [api, proxy].compactMap { $0.localAddress?.port }.map { HostPort(host: "127.0.0.1", port: $0) }
            let router = ControlPlaneRouter.build(
                authenticator: Authenticator(adminToken: adminToken, store: store),
                tools: ToolService(store: store, accounts: try HostAccounts(dataDirectory: directory, userMode: .auto)), store: store,
                routes: StoreRouteRegistry(store: store),
                routeBackends: RouteBackendAdmission(
                    store: store, policy: RouteBackendPolicy(serverUID: geteuid(), serverListeners: listeners)))
            application = Application(router: router)
        }

        var apiPort: Int { api.localAddress?.port ?? 0 }
        var proxyPort: Int { proxy.localAddress?.port ?? 0 }

        func close() async {
            try? await api.close()
            try? await proxy.close()
        }
    }

    struct Outcome {
        var status: HTTPResponse.Status
        var message: String
    }

    func register(_ backend: String, tool: String, token: String, client: some TestClientProtocol) async throws -> Outcome {
        try await client.execute(
            uri: "/v1/tools/\(tool)/routes", method: .post,
            headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
            body: ByteBuffer(string: #"{"pattern":".*","backend":"\#(backend)"}"#)
        ) { response in
            let json = try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            let message = (json?["error"] as? [String: Any])?["message"] as? String ?? ""
            return Outcome(status: response.status, message: message)
        }
    }

    @Test func aToolRoutesOnlyToItsOwnListener() async throws {
        let fixture = try await Fixture()
        let own = try ForeignListener(uid: Self.ownerUID, body: "own")
        let other = try ForeignListener(uid: Self.otherUID, body: "other")
        defer {
            own.stop()
            other.stop()
        }
        try await own.waitUntilListening()
        try await other.waitUntilListening()
        try await fixture.application.test(.router) { client in
            let refused: [(String, String)] = [
                ("127.0.0.1:\(fixture.apiPort)", "127.0.0.1:\(fixture.apiPort) is a listener of the platform itself, not of tool 'owna'"),
                ("127.0.0.1:\(fixture.proxyPort)", "127.0.0.1:\(fixture.proxyPort) is a listener of the platform itself, not of tool 'owna'"),
                ("169.254.169.254:80", "169.254.169.254:80 is not a port on this host's loopback interface"),
                ("10.0.0.1:80", "10.0.0.1:80 is not a port on this host's loopback interface"),
                ("127.0.0.1:\(other.port)", "127.0.0.1:\(other.port) is not a listener of tool 'owna': its listening socket belongs to uid \(Self.otherUID)"),
            ]
            for (backend, message) in refused {
                let outcome = try await register(backend, tool: "owna", token: fixture.ownerToken, client: client)
                #expect(outcome.status == .forbidden, "\(backend)")
                #expect(outcome.message.hasPrefix(message), "\(backend): \(outcome.message)")
            }
            for backend in ["127.0.0.1:\(own.port)", "localhost:\(own.port)"] {
                let outcome = try await register(backend, tool: "owna", token: fixture.ownerToken, client: client)
                #expect(outcome.status == .created, "\(outcome.message)")
            }
            // The admin routes a tool anywhere, the platform's own listeners included.
            for (backend, _) in refused {
                let outcome = try await register(backend, tool: "owna", token: fixture.adminToken, client: client)
                #expect(outcome.status == .created, "\(outcome.message)")
            }
        }
        await fixture.close()
    }

    @Test func aToolOfSingleUserModeGetsTheServersListenersButNotThePlatformsOrAnotherUsers() async throws {
        let fixture = try await Fixture()
        let foreign = try ForeignListener(uid: Self.otherUID)
        defer { foreign.stop() }
        try await foreign.waitUntilListening()
        let servers = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let serversPort = try #require(servers.localAddress?.port)
        try await fixture.application.test(.router) { client in
            let outcome = try await register("127.0.0.1:\(serversPort)", tool: "ownshared", token: fixture.sharedToken, client: client)
            #expect(outcome.status == .created, "\(outcome.message)")
            for backend in ["127.0.0.1:\(fixture.apiPort)", "127.0.0.1:\(foreign.port)", "169.254.169.254:80"] {
                let outcome = try await register(backend, tool: "ownshared", token: fixture.sharedToken, client: client)
                #expect(outcome.status == .forbidden, "\(outcome.message)")
            }
        }
        try await servers.close()
        await fixture.close()
    }
}
