import KilnCore

/// Runs grid commands. The backends take one so that their parsing and decisions can be tested
/// with recorded outputs of real grids (`qstat -xml`, `squeue`, `qacct`, `sacct`).
public protocol GridCommandRunner: Sendable {
    /// Runs `command` to its end. Throws when it could not be run at all (the program is
    /// missing, it passed `timeout`: then `KilnError.gridUnreachable`); a program that ran and
    /// failed is a result with its status.
    func run(_ command: GridCommand, timeout: Duration) async throws(KilnError) -> GridCommand.Result
}
