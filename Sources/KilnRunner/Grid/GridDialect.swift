import KilnCore

/// What differs between grids: how a job is submitted, listed, accounted for and cancelled, and
/// what their failures say. `GridBackend` does everything else, the same for both.
protocol GridDialect: Sendable {
    /// Stored in handles: `gridengine`, `slurm`.
    var name: String { get }

    /// Submits the wrapper at `wrapper` for `submission`, as the tool's user.
    func submitCommand(_ submission: JobSubmission, name: GridJobName, wrapper: String, configuration: GridConfiguration) -> GridCommand

    /// The job id in a successful submission's output; nil when there is none.
    func jobID(submitted output: String) -> String?

    /// Lists every job the grid knows (as the platform: reading only).
    var listCommand: GridCommand { get }

    /// The listing's jobs; throws when the output cannot be read.
    func parseListing(_ output: String) throws(KilnError) -> GridQueueListing

    /// Lists the execution hosts the grid no longer hears from; nil where the grid itself ends
    /// a lost host's jobs soon enough (Slurm's node failure).
    var lostHostsCommand: GridCommand? { get }

    /// The hosts in that command's output.
    func parseLostHosts(_ output: String) -> Set<String>

    /// Removes a job whose host was lost, which the grid will not end on its own.
    func removeLost(_ jobID: String, client: GridClient) async throws(KilnError)

    /// How the job ended by the grid's accounting; nil when it does not know (not yet, or no
    /// accounting runs).
    func accounting(of jobID: String, memory: MemorySize, client: GridClient) async throws(KilnError) -> ExitStatus?

    /// Removes a job stuck in an error state (as its user) and says why it was stuck.
    func removeBroken(_ jobID: String, as user: UnixIdentity?, client: GridClient) async throws(KilnError) -> String?

    /// Stops the job as its user: TERM, then KILL once `grace` has passed without `hasEnded`.
    func cancel(
        _ jobID: String, as user: UnixIdentity?, grace: Duration, client: GridClient, state: GridJobState?,
        hasEnded: @escaping @Sendable () async -> Bool
    ) async throws(KilnError)

    /// Whether a failed command's words mean the grid could not be reached.
    func isUnreachable(_ result: GridCommand.Result) -> Bool
}

extension GridDialect {
    var lostHostsCommand: GridCommand? { nil }
    func parseLostHosts(_ output: String) -> Set<String> { [] }
    func removeLost(_ jobID: String, client: GridClient) async throws(KilnError) {}

    /// Waits (polling every quarter second) until `hasEnded` or `limit` has passed; whether it ended.
    func waitForEnd(within limit: Duration, _ hasEnded: @Sendable () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if await hasEnded() { return true }
            guard (try? await Task.sleep(for: .milliseconds(250))) != nil else { return false }
        }
        return await hasEnded()
    }

    /// Ceiling of `seconds` in whole units of `unit` seconds, at least one.
    static func wholeUnits(_ seconds: Int64, of unit: Int64) -> Int64 {
        max(1, (seconds + unit - 1) / unit)
    }
}
