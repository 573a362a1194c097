import Foundation
import KilnCore
import KilnStore
import Testing

@Suite struct WebserviceStoreTests {
    func makeStore() throws -> (KilnStore, ToolName) {
        let path = NSTemporaryDirectory() + "/kiln-ws-\(UUID().uuidString).sqlite"
        return (try KilnStore(path: path), try ToolName("web"))
    }

    func createTool(_ store: KilnStore, _ name: ToolName) async throws {
        try await store.createTool(Tool(name: name, maintainers: [], unixUser: nil, createdAt: 0), tokenHash: UUID().uuidString)
    }

    @Test func aDeclarationAndItsReplicasRoundTrip() async throws {
        let (store, tool) = try makeStore()
        try await createTool(store, tool)
        let spec = try WebserviceSpec(type: .python311, replicas: 2, extraArguments: ["--timeout", "9"])
        try await store.declareWebservice(WebserviceRecord(tool: tool, spec: spec, declaredAt: 12))
        let replica = ReplicaRecord(
            tool: tool, index: 1, port: 4321, phase: .backingOff, pid: 99, processStart: 12345, startedAt: 3,
            failureTimes: [1, 2], restarts: 2, lastExit: .signaled(signal: 9), lastExitAt: 2)
        try await store.saveReplica(replica)
        #expect(try await store.webservice(of: tool) == WebserviceRecord(tool: tool, spec: spec, declaredAt: 12))
        #expect(try await store.replicas(of: tool) == [replica])
        #expect(try await store.webservices().map(\.tool) == [tool])
    }

    @Test func aDeclarationPastTodaysRangesStillReads() async throws {
        let (store, tool) = try makeStore()
        try await createTool(store, tool)
        // As an earlier version could store it: a request today would be refused, the record is read
        // as it is, so the tool can still see, stop and delete it.
        var huge = try WebserviceSpec(type: .python311)
        huge.memory = MemorySize(bytes: 1 << 50)
        try await store.declareWebservice(WebserviceRecord(tool: tool, spec: huge, declaredAt: 1))
        #expect(try await store.webservice(of: tool)?.spec.memory == MemorySize(bytes: 1 << 50))
        #expect(try await store.webservices().map(\.tool) == [tool])
    }

    @Test func redeclaringStartsTheReplicasAfresh() async throws {
        let (store, tool) = try makeStore()
        try await createTool(store, tool)
        let spec = try WebserviceSpec(type: .staticFiles)
        try await store.declareWebservice(WebserviceRecord(tool: tool, spec: spec, declaredAt: 1))
        try await store.saveReplica(ReplicaRecord(tool: tool, index: 0, port: 1, phase: .failed, failedReason: "boom"))
        try await store.declareWebservice(WebserviceRecord(tool: tool, spec: spec, declaredAt: 2))
        #expect(try await store.replicas(of: tool).isEmpty)
    }

    @Test func aReplacedGenerationIsForgottenAndTheNewOneKept() async throws {
        let (store, tool) = try makeStore()
        try await createTool(store, tool)
        try await store.declareWebservice(WebserviceRecord(tool: tool, spec: try WebserviceSpec(type: .staticFiles, replicas: 2), declaredAt: 1))
        for index in 0..<4 { try await store.saveReplica(ReplicaRecord(tool: tool, index: index, port: 100 + index)) }
        try await store.forgetReplicas(of: tool, indices: [0, 1])
        #expect(try await store.replicas(of: tool).map(\.index) == [2, 3])
        try await store.forgetReplicas(of: tool, indices: [])
        #expect(try await store.replicas(of: tool).map(\.port) == [102, 103])
    }

    @Test func removingTheDeclarationOrTheToolRemovesTheReplicas() async throws {
        let (store, tool) = try makeStore()
        try await createTool(store, tool)
        try await store.declareWebservice(WebserviceRecord(tool: tool, spec: try WebserviceSpec(type: .staticFiles), declaredAt: 1))
        try await store.saveReplica(ReplicaRecord(tool: tool, index: 0, port: 1))
        #expect(try await store.removeWebservice(of: tool))
        #expect(try await store.removeWebservice(of: tool) == false)
        #expect(try await store.webservice(of: tool) == nil)
        // A replica of no declared webservice is not recorded.
        try await store.saveReplica(ReplicaRecord(tool: tool, index: 0, port: 1))
        #expect(try await store.replicas(of: tool).isEmpty)

        try await store.declareWebservice(WebserviceRecord(tool: tool, spec: try WebserviceSpec(type: .staticFiles), declaredAt: 1))
        try await store.saveReplica(ReplicaRecord(tool: tool, index: 0, port: 1))
        _ = try await store.deleteTool(named: tool)
        #expect(try await store.webservices().isEmpty)
        #expect(try await store.replicas(of: tool).isEmpty)
    }

    @Test func theRunnersRoutesAreKeptApartFromHandMadeOnes() async throws {
        let (store, tool) = try makeStore()
        let route = Route(tool: tool.rawValue, pattern: ".*", backend: HostPort(host: "127.0.0.1", port: 5000))
        try await store.recordWebserviceRoute(route)
        try await store.recordWebserviceRoute(route)
        #expect(try await store.webserviceRoutes() == [route])
        try await store.forgetWebserviceRoute(route)
        #expect(try await store.webserviceRoutes().isEmpty)
    }

    @Test func aDeclarationSurvivesReopeningTheStore() async throws {
        let path = NSTemporaryDirectory() + "/kiln-ws-\(UUID().uuidString).sqlite"
        let tool = try ToolName("keep")
        do {
            let store = try KilnStore(path: path)
            try await createTool(store, tool)
            try await store.declareWebservice(WebserviceRecord(tool: tool, spec: try WebserviceSpec(type: .staticFiles), declaredAt: 5))
            try await store.saveReplica(ReplicaRecord(tool: tool, index: 0, port: 7, failureTimes: [1, 2, 3], restarts: 3))
        }
        let reopened = try KilnStore(path: path)
        #expect(try await reopened.replicas(of: tool).first?.failureTimes == [1, 2, 3])
        #expect(try await reopened.appliedMigrations().last == "v8-builds")
    }
}
