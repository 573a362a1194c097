import Foundation
import GRDB
import KilnCore
import Testing

@testable import KilnStore

@Suite struct KilnStoreTests {
    func temporaryStorePath() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("kiln.sqlite").path
    }

    func tool(_ name: String, uid: UInt32? = nil) throws -> Tool {
        Tool(
            name: try ToolName(name), maintainers: ["alice", "bob"],
            unixUser: uid.map { UnixIdentity(name: "tools.\(name)", uid: $0, gid: $0) }, createdAt: 1_700_000_000)
    }

    @Test func migrationsApplyInOrderAndOnlyOnce() async throws {
        let path = try temporaryStorePath()
        let store = try KilnStore(path: path)
        #expect(try await store.appliedMigrations() == ["v1-tools", "v2-routes", "v3-route-backends", "v4-webservices", "v5-jobs", "v6-envvars", "v7-tool-quotas", "v8-builds"])
        let reopened = try KilnStore(path: path)
        #expect(try await reopened.appliedMigrations() == ["v1-tools", "v2-routes", "v3-route-backends", "v4-webservices", "v5-jobs", "v6-envvars", "v7-tool-quotas", "v8-builds"])
        #expect(try await reopened.integrityCheck() == "ok")
    }

    @Test func toolsAreStoredFoundAndDeleted() async throws {
        let store = try KilnStore(path: try temporaryStorePath())
        try await store.createTool(try tool("one", uid: 5001), tokenHash: "hash-one")
        try await store.createTool(try tool("two"), tokenHash: "hash-two")
        #expect(try await store.tools().map(\.name.rawValue) == ["one", "two"])
        let one = try #require(try await store.tool(named: try ToolName("one")))
        #expect(one.maintainers == ["alice", "bob"])
        #expect(one.unixUser == UnixIdentity(name: "tools.one", uid: 5001, gid: 5001))
        #expect(try await store.tool(forTokenHash: "hash-two") == (try ToolName("two")))
        #expect(try await store.tool(forTokenHash: "nope") == nil)
        #expect(try await store.tool(forUID: 5001) == (try ToolName("one")))
        #expect(try await store.tool(forUID: 5002) == nil)

        await #expect(throws: KilnError.self) { try await store.createTool(try tool("one"), tokenHash: "other") }
        let duplicate = try tool("one")
        do {
            try await store.createTool(duplicate, tokenHash: "other")
        } catch {
            #expect(error.code == .conflict)
        }

        let name = try ToolName("one")
        try await store.deleteTool(named: name)
        #expect(try await store.tool(named: name) == nil)
        #expect(try await store.tool(forTokenHash: "hash-one") == nil, "tokens go with the tool")
        do {
            try await store.deleteTool(named: name)
            Issue.record("deleting a missing tool must fail")
        } catch {
            #expect(error.code == .notFound)
        }
    }

    @Test func aFailedTransactionLeavesNothing() async throws {
        let store = try KilnStore(path: try temporaryStorePath())
        // The token hash collides after the tool row was written: the whole create must roll back.
        try await store.createTool(try tool("first"), tokenHash: "same")
        await #expect(throws: KilnError.self) { try await store.createTool(try tool("second"), tokenHash: "same") }
        #expect(try await store.tool(named: try ToolName("second")) == nil)
        #expect(try await store.tools().count == 1)
        #expect(try await store.integrityCheck() == "ok")
    }

    @Test func writesSurviveReopening() async throws {
        let path = try temporaryStorePath()
        do {
            let store = try KilnStore(path: path)
            try await store.createTool(try tool("kept"), tokenHash: "h")
            try await store.addRoute(Route(tool: "kept", pattern: ".*", backend: HostPort(host: "127.0.0.1", port: 1)))
        }
        let reopened = try KilnStore(path: path)
        #expect(try await reopened.tool(named: try ToolName("kept")) != nil)
        #expect(try await reopened.routes(of: "kept").count == 1)
    }

    @Test func routesKeepTheirOrderAndPatternsGatherTheirBackends() async throws {
        let store = try KilnStore(path: try temporaryStorePath())
        let a = HostPort(host: "127.0.0.1", port: 1)
        let b = HostPort(host: "127.0.0.1", port: 2)
        try await store.addRoute(Route(tool: "t", pattern: "^/api", backend: a))
        try await store.addRoute(Route(tool: "t", pattern: ".*", backend: a))
        try await store.addRoute(Route(tool: "t", pattern: "^/api", backend: b))
        try await store.addRoute(Route(tool: "t", pattern: "^/api", backend: a))
        #expect(try await store.routes(of: "t") == [
            Route(tool: "t", pattern: "^/api", backend: a), Route(tool: "t", pattern: "^/api", backend: b),
            Route(tool: "t", pattern: ".*", backend: a),
        ])
        #expect(try await store.removeRoute(tool: "t", pattern: ".*", backend: b) == false, "the backend must match")
        #expect(try await store.removeRoute(tool: "t", pattern: "^/api", backend: a) == true)
        #expect(try await store.routes(of: "t").map(\.backend) == [b, a])
        #expect(try await store.removeRoute(tool: "t", pattern: ".*") == true)
        #expect(try await store.removeRoute(tool: "t", pattern: ".*") == false)
        #expect(try await store.routes() == [Route(tool: "t", pattern: "^/api", backend: b)])
    }

    @Test func removingAPatternWithoutABackendRemovesAllItsBackends() async throws {
        let store = try KilnStore(path: try temporaryStorePath())
        for port in 1...3 { try await store.addRoute(Route(tool: "t", pattern: ".*", backend: HostPort(host: "127.0.0.1", port: port))) }
        try await store.addRoute(Route(tool: "u", pattern: ".*", backend: HostPort(host: "127.0.0.1", port: 1)))
        #expect(try await store.routes(of: "t").count == 3)
        #expect(try await store.removeRoute(tool: "t", pattern: ".*") == true)
        #expect(try await store.routes().map(\.tool) == ["u"])
    }

    @Test func replacingLeavesOneBackendInThePatternsPlace() async throws {
        let store = try KilnStore(path: try temporaryStorePath())
        let (a, b, c) = (HostPort(host: "127.0.0.1", port: 1), HostPort(host: "127.0.0.1", port: 2), HostPort(host: "127.0.0.1", port: 3))
        try await store.addRoute(Route(tool: "t", pattern: "^/api", backend: a))
        try await store.addRoute(Route(tool: "t", pattern: "^/api", backend: b))
        try await store.addRoute(Route(tool: "t", pattern: ".*", backend: a))
        try await store.replaceRoute(Route(tool: "t", pattern: "^/api", backend: c))
        #expect(try await store.routes(of: "t") == [
            Route(tool: "t", pattern: "^/api", backend: c), Route(tool: "t", pattern: ".*", backend: a),
        ])
        // Replacing with a backend the pattern already has keeps just that one.
        try await store.addRoute(Route(tool: "t", pattern: ".*", backend: b))
        try await store.replaceRoute(Route(tool: "t", pattern: ".*", backend: b))
        try await store.replaceRoute(Route(tool: "t", pattern: "^/new", backend: a))
        #expect(try await store.routes(of: "t").map { "\($0.pattern) \($0.backend.port)" } == ["^/api 3", ".* 2", "^/new 1"])
    }

    /// A store of the previous release: its routes survive the migration with their order, and
    /// their patterns can then gather backends.
    @Test func theBackendsMigrationKeepsExistingRoutes() async throws {
        let path = try temporaryStorePath()
        do {
            let old = try KilnStore(path: path, migratingUpTo: "v2-routes")
            try await old.pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO routes (tool, position, pattern, backend) VALUES
                            ('t', 0, '^/api', '127.0.0.1:1'), ('u', 0, '.*', '127.0.0.1:3'), ('t', 1, '.*', '127.0.0.1:2')
                        """)
            }
            #expect(try await old.appliedMigrations() == ["v1-tools", "v2-routes"])
        }
        let store = try KilnStore(path: path)
        #expect(try await store.appliedMigrations().contains("v3-route-backends"))
        #expect(try await store.routes().map { "\($0.tool) \($0.pattern) \($0.backend.port)" } == ["t ^/api 1", "t .* 2", "u .* 3"])
        try await store.addRoute(Route(tool: "t", pattern: "^/api", backend: HostPort(host: "127.0.0.1", port: 4)))
        #expect(try await store.routes(of: "t").map(\.backend.port) == [1, 4, 2])
        #expect(try await store.integrityCheck() == "ok")
    }

    @Test func routeChangesArePushedInCommitOrder() async throws {
        let store = try KilnStore(path: try temporaryStorePath())
        let updates = store.routeUpdates()
        let backend = HostPort(host: "127.0.0.1", port: 1)
        try await store.addRoute(Route(tool: "t", pattern: ".*", backend: backend))
        try await store.addRoute(Route(tool: "t", pattern: "^/x", backend: backend))
        _ = try await store.removeRoute(tool: "nobody", pattern: ".*")
        try await store.removeRoute(tool: "t", pattern: ".*")
        // Registering a backend that is already there still pushes: proxies take it as "back".
        try await store.addRoute(Route(tool: "t", pattern: "^/x", backend: backend))
        var received: [RouteChange] = []
        for await change in updates {
            received.append(change)
            if received.count == 4 { break }
        }
        #expect(received[0] == .replaced(tool: "t", routes: [Route(tool: "t", pattern: ".*", backend: backend)]))
        #expect(received[1] == .replaced(tool: "t", routes: [
            Route(tool: "t", pattern: ".*", backend: backend), Route(tool: "t", pattern: "^/x", backend: backend),
        ]))
        #expect(received[2] == .replaced(tool: "t", routes: [Route(tool: "t", pattern: "^/x", backend: backend)]))
        #expect(received[3] == received[2])
    }
}
