import KilnTesting

/// Polls `condition` until it holds, or fails after `timeout`.
func eventually(
    _ what: String, timeout: Duration = .seconds(5), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TestFailure("not within \(timeout): \(what)") }
        try await Task.sleep(for: .milliseconds(5))
    }
}
