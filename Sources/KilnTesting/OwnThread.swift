import Foundation

/// Runs blocking work (starting a process and polling until it answers, waiting for one to exit)
/// on a thread of its own, so that an async test does not hold one of the cooperative pool's few
/// threads while it waits.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
