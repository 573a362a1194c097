import Foundation
import Hummingbird
import HummingbirdTesting
import KilnAPI
import KilnAccounts
import KilnCore
import KilnStore
import Testing

/// The route a grid replica's runner registers its backend on: reached with a replica's
/// credential alone (which the webservice control checks), never with another credential, and
/// its input checked where it enters.
@Suite struct ReplicaBackendControllerTests {
    /// Takes the registrations the API passes on; a credential other than `accepted` is refused
    /// as the monitor refuses it.
    actor RecordingControl: WebserviceControl {
        static let accepted = "kiln_replica_" + String(repeating: "a", count: 64)
        var registrations: [ReplicaRegistration] = []

        func replicaBackend(_ registration: ReplicaRegistration) async throws(KilnError) {
            guard registration.credential == Self.accepted else {
                throw KilnError(.forbidden, "this credential is not that of replica \(registration.replica)'s current runner")
            }
            registrations.append(registration)
        }

        func start(tool: ToolName, spec: WebserviceSpec) async throws(KilnError) -> WebserviceStatus { try await status(tool: tool) }
        func stop(tool: ToolName) async throws(KilnError) -> WebserviceStatus { try await status(tool: tool) }
        func restart(tool: ToolName) async throws(KilnError) -> WebserviceStatus { try await status(tool: tool) }
        func status(tool: ToolName) async throws(KilnError) -> WebserviceStatus {
            WebserviceStatus(tool: tool, record: nil, replicas: [], limitEnforcement: [:], errorLogTail: [])
        }
    }

    struct Fixture {
        let application: Application<RouterResponder<KilnRequestContext>>
        let control = RecordingControl()
        let adminToken = AccessToken.generate()

        init() throws {
            let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-replica-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            let store = try KilnStore(path: dataDirectory + "/kiln.sqlite")
            let accounts = try HostAccounts(dataDirectory: dataDirectory, userMode: .auto)
            application = Application(router: ControlPlaneRouter.build(
                authenticator: Authenticator(adminToken: adminToken, store: store),
                tools: ToolService(store: store, accounts: accounts), store: store, routes: StoreRouteRegistry(store: store),
                webservices: control))
        }
    }

    static let path = "/v1/tools/alpha/webservice/replicas/1/backend"

    func headers(_ token: String?) -> HTTPFields {
        var fields: HTTPFields = [.contentType: "application/json"]
        if let token { fields[.authorization] = "Bearer \(token)" }
        return fields
    }

    func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func theReplicasCredentialRegistersAndDeregisters() async throws {
        let fixture = try Fixture()
        try await fixture.application.test(.router) { client in
            try await client.execute(
                uri: Self.path, method: .put, headers: headers(RecordingControl.accepted), body: body(#"{"host":"10.200.0.11","port":41000}"#)
            ) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: Self.path, method: .delete, headers: headers(RecordingControl.accepted)) { response in
                #expect(response.status == .noContent)
            }
        }
        let registrations = await fixture.control.registrations
        #expect(registrations.map(\.tool.rawValue) == ["alpha", "alpha"])
        #expect(registrations.map(\.replica) == [1, 1])
        #expect(registrations.map(\.backend) == [HostPort(host: "10.200.0.11", port: 41000), nil])
    }

    @Test func noOtherCredentialOpensTheRoute() async throws {
        let fixture = try Fixture()
        let put = body(#"{"host":"10.200.0.11","port":41000}"#)
        try await fixture.application.test(.router) { client in
            // The admin passes authentication, and the route still wants a replica's credential.
            try await client.execute(uri: Self.path, method: .put, headers: headers(fixture.adminToken), body: put) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: Self.path, method: .put, headers: headers(nil), body: put) { response in
                #expect(response.status == .unauthorized)
            }
            let wrong = "kiln_replica_" + String(repeating: "b", count: 64)
            try await client.execute(uri: Self.path, method: .put, headers: headers(wrong), body: put) { response in
                #expect(response.status == .forbidden)
            }
            // A replica's credential opens nothing else.
            try await client.execute(uri: "/v1/tools/alpha/webservice", method: .get, headers: headers(RecordingControl.accepted)) { response in
                #expect(response.status == .unauthorized)
            }
        }
        #expect(await fixture.control.registrations.isEmpty)
    }

    @Test func hostileNumbersAreRefusedWhereTheyEnter() async throws {
        let fixture = try Fixture()
        let credential = headers(RecordingControl.accepted)
        try await fixture.application.test(.router) { client in
            for port in ["0", "65536", "-1", "99999999999999999999", "1.5", "\"80\""] {
                try await client.execute(
                    uri: Self.path, method: .put, headers: credential, body: body(#"{"host":"10.200.0.11","port":\#(port)}"#)
                ) { response in
                    #expect((400..<500).contains(response.status.code), "port \(port): \(response.status)")
                }
            }
            for host in ["", "exec1", "10.200.0.300", "::1", String(repeating: "1", count: 100_000), "10.200.0.11\u{0}"] {
                try await client.execute(
                    uri: Self.path, method: .put, headers: credential, body: body(#"{"host":"\#(host)","port":41000}"#)
                ) { response in
                    #expect(response.status == .badRequest, "host \(host.prefix(20)): \(response.status)")
                }
            }
            for replica in ["16", "-1", "x", "99999999999999999999"] {
                try await client.execute(
                    uri: "/v1/tools/alpha/webservice/replicas/\(replica)/backend", method: .put, headers: credential,
                    body: body(#"{"host":"10.200.0.11","port":41000}"#)
                ) { response in
                    #expect(response.status == .notFound, "replica \(replica): \(response.status)")
                }
            }
            try await client.execute(
                uri: "/v1/tools/NOT_A_TOOL/webservice/replicas/0/backend", method: .put, headers: credential,
                body: body(#"{"host":"10.200.0.11","port":41000}"#)
            ) { response in
                #expect(response.status == .notFound)
            }
        }
        #expect(await fixture.control.registrations.isEmpty)
    }
}
