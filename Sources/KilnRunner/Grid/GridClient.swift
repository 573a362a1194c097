import KilnCore
import Logging

/// Runs a grid's commands with the configuration's timeout, and turns an answer that says the
/// grid cannot be reached (its controller or munge down) into `KilnError.gridUnreachable`, so
/// that every caller tells "the grid said no" from "the grid said nothing".
struct GridClient: Sendable {
    let grid: String
    let runner: any GridCommandRunner
    let configuration: GridConfiguration
    let logger: Logger
    /// Whether a failed command's words mean the grid could not be reached.
    let isUnreachable: @Sendable (GridCommand.Result) -> Bool

    /// Runs `command`; a failure that means the grid is unreachable throws, any other result
    /// (success or a refusal) is returned.
    func run(_ command: GridCommand) async throws(KilnError) -> GridCommand.Result {
        let result: GridCommand.Result
        do {
            result = try await runner.run(command, timeout: configuration.commandTimeout)
        } catch {
            if error.isGridUnreachable { throw KilnError.gridUnreachable(error.message, grid: grid) }
            throw error
        }
        if !result.succeeded && isUnreachable(result) {
            throw KilnError.gridUnreachable("\(command.program): \(result.said)", grid: grid)
        }
        return result
    }
}
