import Foundation
import Hummingbird
import HummingbirdTesting
import KilnAPI
import KilnAccounts
import KilnCore
import KilnStore
import KilnTesting
import NIOPosix
import Testing

/// The control-plane API in process, on a real store, through HummingbirdTesting's router client.
@Suite struct ControlPlaneRouterTests {
    struct Fixture {
        let application: Application<RouterResponder<KilnRequestContext>>
        let adminToken = AccessToken.generate()
        let dataDirectory: String

        init() throws {
            dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-api-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            let store = try KilnStore(path: dataDirectory + "/kiln.sqlite")
            let accounts = try HostAccounts(dataDirectory: dataDirectory, userMode: .auto)
            let router = ControlPlaneRouter.build(
                authenticator: Authenticator(adminToken: adminToken, store: store),
                tools: ToolService(store: store, accounts: accounts), store: store, routes: StoreRouteRegistry(store: store))
            application = Application(router: router)
        }
    }

    func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }

    func errorCode(_ body: ByteBuffer) -> String? {
        let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: [String: Any]]
        return json?["error"]?["code"] as? String
    }

    @Test func everyCallIsAuthenticated() async throws {
        let fixture = try Fixture()
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/v1/tools", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(errorCode(response.body) == "unauthenticated")
            }
            try await client.execute(uri: "/v1/tools", method: .get, headers: bearer("kiln_wrong")) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/tools", method: .get, headers: [.authorization: "Basic abc"]) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/nothing", method: .get, headers: bearer(fixture.adminToken)) { response in
                #expect(response.status == .notFound)
                #expect(errorCode(response.body) == "not_found")
            }
        }
    }

    @Test func adminCreatesAToolWhoseTokenActsOnItAlone() async throws {
        let fixture = try Fixture()
        try await fixture.application.test(.router) { client in
            var token = ""
            for name in ["alpha", "beta"] {
                try await client.execute(
                    uri: "/v1/tools", method: .post, headers: bearer(fixture.adminToken),
                    body: ByteBuffer(string: #"{"name":"\#(name)","maintainers":["alice"]}"#)
                ) { response in
                    #expect(response.status == .created)
                    let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                    if name == "alpha" { token = json["token"] as? String ?? "" }
                    #expect((json["token_file"] as? String)?.hasSuffix("/tools/\(name)/.kiln-token") == true)
                }
            }
            let attributes = try FileManager.default.attributesOfItem(atPath: fixture.dataDirectory + "/tools/alpha/.kiln-token")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)

            try await client.execute(uri: "/v1/whoami", method: .get, headers: bearer(token)) { response in
                #expect(String(buffer: response.body) == #"{"role":"tool","tool":"alpha"}"#)
            }
            try await client.execute(uri: "/v1/tools/beta", method: .get, headers: bearer(token)) { response in
                #expect(response.status == .forbidden)
                #expect(errorCode(response.body) == "forbidden")
            }
            try await client.execute(
                uri: "/v1/tools/beta/routes", method: .post, headers: bearer(token),
                body: ByteBuffer(string: #"{"pattern":".*","backend":"127.0.0.1:1"}"#)
            ) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/tools/beta", method: .delete, headers: bearer(token)) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(
                uri: "/v1/tools", method: .post, headers: bearer(token), body: ByteBuffer(string: #"{"name":"gamma"}"#)
            ) { response in
                #expect(response.status == .forbidden)
            }
            // Its own listener: as root the tool has its Unix user, whose listener it is; otherwise
            // (single-user mode) a tool's processes are the server's.
            let foreign = try getpwnam("tools.alpha").map { try ForeignListener(uid: $0.pointee.pw_uid) }
            let listener =
                foreign == nil ? try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get() : nil
            try await foreign?.waitUntilListening()
            let backend = "127.0.0.1:\(foreign?.port ?? listener?.localAddress?.port ?? 0)"
            try await client.execute(
                uri: "/v1/tools/alpha/routes", method: .post, headers: bearer(token),
                body: ByteBuffer(string: #"{"pattern":".*","backend":"\#(backend)"}"#)
            ) { response in
                #expect(response.status == .created, "\(String(buffer: response.body))")
            }
            try await client.execute(uri: "/list", method: .get, headers: bearer(fixture.adminToken)) { response in
                #expect(String(buffer: response.body).contains(#""alpha":[{"backend":"\#(backend)","pattern":".*","tool":"alpha"}]"#))
            }
            foreign?.stop()
            try await listener?.close()
        }
    }

    @Test func badInputGetsA400WithItsCode() async throws {
        let fixture = try Fixture()
        try await fixture.application.test(.router) { client in
            let cases: [(String, String, String)] = [
                ("/v1/tools", "{not json", "bad_request"),
                ("/v1/tools", #"{"maintainers":[]}"#, "bad_request"),
                ("/v1/tools", #"{"name":"Bad_Name"}"#, "invalid_name"),
                ("/v1/tools", #"{"name":"ok","maintainers":["a b"]}"#, "invalid_name"),
            ]
            for (uri, body, code) in cases {
                try await client.execute(uri: uri, method: .post, headers: bearer(fixture.adminToken), body: ByteBuffer(string: body)) {
                    response in
                    #expect(response.status == .badRequest, "\(body)")
                    #expect(errorCode(response.body) == code, "\(body): \(String(buffer: response.body))")
                }
            }
            try await client.execute(
                uri: "/v1/tools", method: .post, headers: bearer(fixture.adminToken), body: ByteBuffer(string: #"{"name":"routed"}"#)
            ) { _ in }
            for (body, code) in [
                (#"{"pattern":"([","backend":"127.0.0.1:1"}"#, "invalid_route"),
                (#"{"pattern":".*","backend":"nowhere"}"#, "invalid_address"),
            ] {
                try await client.execute(
                    uri: "/v1/tools/routed/routes", method: .post, headers: bearer(fixture.adminToken), body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == .badRequest)
                    #expect(errorCode(response.body) == code)
                }
            }
            try await client.execute(
                uri: "/v1/tools", method: .post, headers: bearer(fixture.adminToken), body: ByteBuffer(string: #"{"name":"routed"}"#)
            ) { response in
                #expect(response.status == .conflict)
                #expect(errorCode(response.body) == "conflict")
            }
        }
    }

    /// A tool's 101st pattern and a 513-byte pattern are refused, each naming the field and the
    /// limit; the 100th and a 512-byte one are taken.
    @Test func routePatternsAreLimitedInNumberAndLength() async throws {
        let fixture = try Fixture()
        try await fixture.application.test(.router) { client in
            let admin = bearer(fixture.adminToken)
            for name in ["many", "long"] {
                let body = ByteBuffer(string: #"{"name":"\#(name)"}"#)
                try await client.execute(uri: "/v1/tools", method: .post, headers: admin, body: body) { _ in }
            }
            func post(
                _ tool: String, pattern: String, backend: String = "127.0.0.1:1", replace: Bool = false
            ) async throws -> (HTTPResponse.Status, String) {
                let body = try JSONSerialization.data(withJSONObject: ["pattern": pattern, "backend": backend, "replace": replace])
                return try await client.execute(
                    uri: "/v1/tools/\(tool)/routes", method: .post, headers: admin, body: ByteBuffer(bytes: body)
                ) { response in (response.status, String(buffer: response.body)) }
            }
            for index in 0..<RouteLimits.patternsPerTool {
                let (status, body) = try await post("many", pattern: "^/p\(index)/")
                #expect(status == .created, "\(index): \(body)")
            }
            let (refused, refusal) = try await post("many", pattern: "^/one-more/")
            #expect(refused == .unprocessableContent)
            #expect(errorCode(ByteBuffer(string: refusal)) == "quota_exceeded")
            #expect(refusal.contains("'pattern'") && refusal.contains("100 route patterns"), "\(refusal)")
            #expect(try await post("many", pattern: "^/one-more/", replace: true).0 == .unprocessableContent)
            // Another backend of a pattern it has is no new pattern.
            #expect(try await post("many", pattern: "^/p7/", backend: "127.0.0.1:2").0 == .created)
            #expect(try await post("many", pattern: "^/p8/", backend: "127.0.0.1:2", replace: true).0 == .created)

            let longest = "^/" + String(repeating: "x", count: RouteLimits.patternBytes - 2)
            #expect(longest.utf8.count == 512)
            #expect(try await post("long", pattern: longest).0 == .created)
            let (tooLong, tooLongBody) = try await post("long", pattern: longest + "x")
            #expect(tooLong == .badRequest)
            #expect(errorCode(ByteBuffer(string: tooLongBody)) == "invalid_route")
            #expect(tooLongBody.contains("'pattern'") && tooLongBody.contains("at most 512 bytes"), "\(tooLongBody)")
            let (invalid, invalidBody) = try await post("long", pattern: "^/(a+")
            #expect(invalid == .badRequest)
            #expect(invalidBody.contains("^/(a+") && invalidBody.contains("not a valid regular expression"), "\(invalidBody)")
        }
    }

    @Test func aPatternGathersBackendsUntilReplaced() async throws {
        let fixture = try Fixture()
        try await fixture.application.test(.router) { client in
            let admin = bearer(fixture.adminToken)
            try await client.execute(uri: "/v1/tools", method: .post, headers: admin, body: ByteBuffer(string: #"{"name":"web"}"#)) { _ in }
            func post(_ body: String) async throws {
                try await client.execute(uri: "/v1/tools/web/routes", method: .post, headers: admin, body: ByteBuffer(string: body)) {
                    response in
                    #expect(response.status == .created, "\(String(buffer: response.body))")
                }
            }
            func backends() async throws -> [String] {
                try await client.execute(uri: "/v1/tools/web/routes", method: .get, headers: admin) { response in
                    try JSONDecoder().decode(RouteListResponse.self, from: Data(buffer: response.body)).routes.map(\.backend)
                }
            }
            try await post(#"{"backend":"127.0.0.1:1"}"#)
            try await post(#"{"pattern":".*","backend":"127.0.0.1:2","replace":false}"#)
            try await post(#"{"backend":"127.0.0.1:3"}"#)
            #expect(try await backends() == ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"])
            try await client.execute(uri: "/v1/tools/web/routes?pattern=.*&backend=127.0.0.1:2", method: .delete, headers: admin) {
                response in
                #expect(response.status == .ok)
            }
            #expect(try await backends() == ["127.0.0.1:1", "127.0.0.1:3"])
            try await post(#"{"backend":"127.0.0.1:4","replace":true}"#)
            #expect(try await backends() == ["127.0.0.1:4"])
        }
    }
}
