import Foundation
import KilnAPI
import KilnCore
import KilnStore
import Logging
import Testing

/// Envvars on a real store: the quota, replacing, deleting, and what the tools' processes get.
struct EnvvarServiceTests {
    let store: KilnStore
    let vault: EnvvarVault
    let environments = ToolEnvironments()
    let service: EnvvarService
    let tool: ToolName
    let other: ToolName

    init() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-envvars-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try KilnStore(path: directory + "/kiln.sqlite")
        vault = try EnvvarVault(key: EnvvarVault.generateKey())
        service = EnvvarService(store: store, vault: vault, environments: environments)
        tool = try ToolName("bot")
        other = try ToolName("other")
        for name in [tool, other] {
            try await store.createTool(Tool(name: name, maintainers: [], unixUser: nil, createdAt: 0), tokenHash: name.rawValue)
        }
    }

    @Test func aToolHoldsUpToItsQuotaAndReplacingCostsNothing() async throws {
        for index in 0..<EnvvarLimits.quota { _ = try await service.set(try EnvvarName("V\(index)"), to: "x", of: tool) }
        await #expect(throws: KilnError.self) { _ = try await service.set(try EnvvarName("ONE_MORE"), to: "x", of: tool) }
        _ = try await service.set(try EnvvarName("V0"), to: "replaced", of: tool)
        let quota = try await service.quota(tool)
        #expect(quota.quota == EnvvarLimits.quota && quota.used == EnvvarLimits.quota)
        #expect(try await service.quota(other).used == 0, "the quota is each tool's")
        _ = try await service.set(try EnvvarName("V0"), to: "mine", of: other)
        #expect(environments.of(tool)["V0"] == "replaced" && environments.of(other)["V0"] == "mine")
    }

    @Test func deletedAndReloadedAsStored() async throws {
        _ = try await service.set(try EnvvarName("API_KEY"), to: "k1", of: tool)
        _ = try await service.set(try EnvvarName("GONE"), to: "g", of: tool)
        #expect(try await service.delete(try EnvvarName("GONE"), of: tool).value == "g")
        await #expect(throws: KilnError.self) { _ = try await service.delete(try EnvvarName("GONE"), of: tool) }
        #expect(environments.of(tool) == ["API_KEY": "k1"])
        // A new process of the platform opens them from the store.
        let reloaded = ToolEnvironments()
        try await EnvvarService(store: store, vault: vault, environments: reloaded).load(logger: Logger(label: "test"))
        #expect(reloaded.of(tool) == ["API_KEY": "k1"])
        await #expect(throws: KilnError.self) { _ = try await service.set(try EnvvarName("BIG"), to: String(repeating: "v", count: 4097), of: tool) }
    }
}
