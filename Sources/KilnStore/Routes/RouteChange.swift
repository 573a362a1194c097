import KilnCore
import Synchronization

/// Fans route changes out to every subscriber, in the order they were made.
final class RouteChangeBroadcast: Sendable {
    private let subscribers = Mutex<[Int: AsyncStream<RouteChange>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)

    func subscribe() -> AsyncStream<RouteChange> {
        let (stream, continuation) = AsyncStream<RouteChange>.makeStream()
        let id = nextID.add(1, ordering: .relaxed).newValue
        subscribers.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        return stream
    }

    func publish(_ change: RouteChange) {
        subscribers.withLock { subscribers in
            for continuation in subscribers.values { continuation.yield(change) }
        }
    }
}
