import KilnCore
import KilnRunner
import Testing

/// The Slurm backend against Slurm itself (`scripts/grid-up slurm`), as a real tool
/// user; skipped (saying why) when not root or slurmctld does not answer.
@Suite(
    .serialized,
    .enabled("needs root and Slurm up: run scripts/grid-up slurm (scripts/test does, as root)") {
        await GridTestEnvironment.slurmUp
    })
struct SlurmIntegrationTests {
    static func scenarios() async throws -> GridScenarios {
        try await GridScenarios(backend: GridJobBackends.slurm(), restarted: GridJobBackends.slurm()) { id in
            try await GridTestEnvironment.run("scontrol", ["show", "job", id]).output
        }
    }

    @Test func exitCodesLogsAndPlacement() async throws { try await Self.scenarios().exitCodesLogsAndPlacement(grid: "slurm") }
    @Test func signals() async throws { try await Self.scenarios().signals() }
    @Test func memoryLimit() async throws {
        let status = try await Self.scenarios().memoryLimit()
        print("grid figure: slurm past its memory limit (--mem, OverMemoryKill): \(status)")
    }
    @Test func cancel() async throws { try await Self.scenarios().cancel() }
    @Test func environmentStaysPrivate() async throws { try await Self.scenarios().environmentStaysPrivate() }
    @Test func adoptionAfterRestart() async throws { try await Self.scenarios().adoptionAfterRestart() }
}
