import Foundation

/// The time the job runner goes by: the system's, or (for tests of schedules, which must not wait
/// minutes) one a test sets.
public protocol JobClock: Sendable {
    func now() -> Date
    /// Returns at `date` or a little after, or sooner (the system's clock wakes at least every
    /// minute, so that a changed wall clock is noticed); throws when the task is cancelled.
    /// What must not end before `date` (a deadline, a backoff) uses `sleepUntilReached`.
    func sleep(until date: Date) async throws
}

extension JobClock {
    /// Returns once `date` is reached, however often `sleep(until:)` wakes before it: a run's
    /// deadline taken for reached a minute into a longer wait killed every run (a grid job
    /// pending, a long command) as timed out after 60 s.
    public func sleepUntilReached(_ date: Date) async throws {
        while now() < date { try await sleep(until: date) }
    }
}

public struct SystemJobClock: JobClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until date: Date) async throws {
        // Woken at least every minute, so a changed wall clock (NTP step, suspend) is noticed.
        let seconds = min(max(date.timeIntervalSinceNow, 0), 60)
        try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up))))
    }
}

/// A clock read from a file that holds seconds since 1970 (`kiln serve --clock-file`, for
/// end-to-end tests): a test moves time by writing the file, across restarts of the server.
public struct FileJobClock: JobClock {
    public let path: String

    public init(path: String) { self.path = path }

    public func now() -> Date {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let seconds = Double(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return Date() }
        return Date(timeIntervalSince1970: seconds)
    }

    public func sleep(until date: Date) async throws {
        while now() < date { try await Task.sleep(for: .milliseconds(20)) }
    }
}
