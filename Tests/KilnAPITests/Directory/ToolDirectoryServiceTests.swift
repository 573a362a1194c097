import Foundation
import Hummingbird
import HummingbirdTesting
import KilnAccounts
import KilnCore
import KilnStore
import Synchronization
import Testing

@testable import KilnAPI

@Suite struct ToolDirectoryServiceTests {
    @Test func theStoreIsReadOncePerLifetimeHoweverManyAsk() async throws {
        let reads = Atomic<Int>(0)
        let service = ToolDirectoryService(lifetime: .milliseconds(300)) {
            let read = reads.add(1, ordering: .relaxed).newValue
            try await Task.sleep(for: .milliseconds(50))
            return ToolDirectory(tools: [.init(name: "t\(read)", maintainers: [], webservice: nil)])
        }
        let names = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await service.directory().tools[0].name } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(names == ["t1"])
        #expect(reads.load(ordering: .relaxed) == 1)
        try await Task.sleep(for: .milliseconds(350))
        #expect(try await service.directory().tools[0].name == "t2")
    }

    /// The one route anyone may read: what the front page shows, nothing more; anything else
    /// still asks for a token.
    @Test func theDirectoryIsPublicAndReadOnly() async throws {
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-api-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let store = try KilnStore(path: dataDirectory + "/kiln.sqlite")
        let adminToken = AccessToken.generate()
        // Stored directly: no Unix user is made for them.
        for (name, maintainers) in [("beta", ["bob"]), ("alpha", ["alice", "carol"])] {
            let tool = Tool(name: try ToolName(name), maintainers: maintainers, unixUser: nil, createdAt: 0)
            try await store.createTool(tool, tokenHash: AccessToken.digest(AccessToken.generate()))
        }
        let tools = ToolService(store: store, accounts: try HostAccounts(dataDirectory: dataDirectory, userMode: .auto))
        let router = ControlPlaneRouter.build(
            authenticator: Authenticator(adminToken: adminToken, store: store), tools: tools, store: store,
            routes: StoreRouteRegistry(store: store), directory: ToolDirectoryService(store: store, lifetime: .zero))
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/v1/directory", method: .get) { response in
                #expect(response.status == .ok)
                let directory = try JSONDecoder().decode(ToolDirectory.self, from: Data(buffer: response.body))
                #expect(directory.tools.map(\.name) == ["alpha", "beta"])
                #expect(directory.tools[0].maintainers == ["alice", "carol"])
                #expect(directory.tools.allSatisfy { $0.webservice == nil })
                // No token, no home, no Unix user: only what the front page shows.
                #expect(!String(buffer: response.body).contains("kiln_"))
                #expect(!String(buffer: response.body).contains(dataDirectory))
            }
            try await client.execute(uri: "/v1/directory", method: .post) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/tools", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }
}
