import KilnCore
import KilnRunner
import Testing

/// The SGE backend against Son of Grid Engine itself (`scripts/grid-up sge`), as a real tool
/// user; skipped (saying why) when not root or SGE does not answer.
@Suite(
    .serialized,
    .enabled("needs root and Son of Grid Engine up: run scripts/grid-up sge (scripts/test does, as root)") {
        await GridTestEnvironment.gridEngineUp
    })
struct GridEngineIntegrationTests {
    static func scenarios() async throws -> GridScenarios {
        try await GridScenarios(backend: GridJobBackends.gridEngine(), restarted: GridJobBackends.gridEngine()) { id in
            try await GridTestEnvironment.run("qstat", ["-j", id], environment: GridConfiguration.gridEngine().commandEnvironment).output
        }
    }

    @Test func exitCodesLogsAndPlacement() async throws { try await Self.scenarios().exitCodesLogsAndPlacement(grid: "gridengine") }
    @Test func signals() async throws { try await Self.scenarios().signals() }
    @Test func memoryLimit() async throws {
        let status = try await Self.scenarios().memoryLimit()
        print("grid figure: gridengine past its memory limit (h_vmem, an address-space limit): \(status)")
    }
    @Test func cancel() async throws { try await Self.scenarios().cancel() }
    @Test func environmentStaysPrivate() async throws { try await Self.scenarios().environmentStaysPrivate() }
    @Test func adoptionAfterRestart() async throws { try await Self.scenarios().adoptionAfterRestart() }
}
