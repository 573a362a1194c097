import KilnCore

/// One listing of the grid's queue shared by every attempt waiting at once: a thousand runs
/// waiting cost one `qstat`/`squeue` a poll, not a thousand. A listing answers waiters that ask
/// within `maximumAge` of its start; a waiter that asks while one is under way joins it. A failure
/// (the grid unreachable) is kept as long, so waiters do not all ask again at once.
actor GridQueueWatch {
    private let list: @Sendable () async throws(KilnError) -> GridQueueListing
    private let maximumAge: Duration
    private var latest: (result: Result<GridQueueListing, KilnError>, startedAt: ContinuousClock.Instant)?
    private var inFlight: Task<Result<GridQueueListing, KilnError>, Never>?

    init(maximumAge: Duration, list: @escaping @Sendable () async throws(KilnError) -> GridQueueListing) {
        self.maximumAge = maximumAge
        self.list = list
    }

    /// A listing begun at most `maximumAge` ago (a waiter that reads an exit file after this
    /// returns reads it after the listing began: a job it does not list had ended before).
    func listing() async throws(KilnError) -> GridQueueListing {
        if let latest, ContinuousClock.now - latest.startedAt <= maximumAge { return try latest.result.get() }
        if let inFlight { return try await inFlight.value.get() }
        let startedAt = ContinuousClock.now
        let list = self.list
        let task = Task { () -> Result<GridQueueListing, KilnError> in
            do throws(KilnError) {
                return .success(try await list())
            } catch {
                return .failure(error)
            }
        }
        inFlight = task
        let result = await task.value
        inFlight = nil
        latest = (result, startedAt)
        return try result.get()
    }
}
