import KilnCore
import Synchronization

/// The end of a spawned attempt, awaited by any number of waiters, each of which may give up
/// (task cancelled) without affecting the attempt or the others.
final class AttemptEnd: Sendable {
    private struct State {
        var status: ExitStatus?
        var waiters: [Int: CheckedContinuation<ExitStatus, any Error>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    /// Whether the attempt has ended (its status is known), waited for or not.
    var hasEnded: Bool { state.withLock { $0.status != nil } }

    func finish(_ status: ExitStatus) {
        let waiters = state.withLock { state in
            state.status = status
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: status) }
    }

    func wait() async throws -> ExitStatus {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ended = state.withLock { state -> ExitStatus? in
                    if let status = state.status { return status }
                    state.waiters[id] = continuation
                    return nil
                }
                if let ended { return continuation.resume(returning: ended) }
                // Cancelled before the waiter was registered: the handler found nothing to resume.
                if Task.isCancelled, let waiter = state.withLock({ $0.waiters.removeValue(forKey: id) }) {
                    waiter.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }
}
