import Foundation
import KilnCore
import KilnStore
import Testing

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
        #expect(try await store.appliedMigrations() == ["v1-tools", "v2-routes"])
        let reopened = try KilnStore(path: path)
        #expect(try await reopened.appliedMigrations() == ["v1-tools", "v2-routes"])
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

    @Test func routesKeepTheirOrderAndUpdateInPlace() async throws {
        let store = try KilnStore(path: try temporaryStorePath())
        let a = HostPort(host: "127.0.0.1", port: 1)
        let b = HostPort(host: "127.0.0.1", port: 2)
        try await store.addRoute(Route(tool: "t", pattern: "^/api", backend: a))
        try await store.addRoute(Route(tool: "t", pattern: ".*", backend: a))
        try await store.addRoute(Route(tool: "t", pattern: "^/api", backend: b))
        #expect(try await store.routes(of: "t").map(\.pattern) == ["^/api", ".*"])
        #expect(try await store.routes(of: "t").first?.backend == b)
        #expect(try await store.removeRoute(tool: "t", pattern: ".*", backend: b) == false, "the backend must match")
        #expect(try await store.removeRoute(tool: "t", pattern: ".*") == true)
        #expect(try await store.removeRoute(tool: "t", pattern: ".*") == false)
        #expect(try await store.routes().map(\.pattern) == ["^/api"])
    }

    @Test func routeChangesArePushedInCommitOrder() async throws {
        let store = try KilnStore(path: try temporaryStorePath())
        let updates = store.routeUpdates()
        let backend = HostPort(host: "127.0.0.1", port: 1)
        try await store.addRoute(Route(tool: "t", pattern: ".*", backend: backend))
        try await store.addRoute(Route(tool: "t", pattern: "^/x", backend: backend))
        _ = try await store.removeRoute(tool: "nobody", pattern: ".*")
        try await store.removeRoute(tool: "t", pattern: ".*")
        var received: [RouteChange] = []
        for await change in updates {
            received.append(change)
            if received.count == 3 { break }
        }
        #expect(received[0] == .replaced(tool: "t", routes: [Route(tool: "t", pattern: ".*", backend: backend)]))
        #expect(received[1] == .replaced(tool: "t", routes: [
            Route(tool: "t", pattern: ".*", backend: backend), Route(tool: "t", pattern: "^/x", backend: backend),
        ]))
        #expect(received[2] == .replaced(tool: "t", routes: [Route(tool: "t", pattern: "^/x", backend: backend)]))
    }
}
