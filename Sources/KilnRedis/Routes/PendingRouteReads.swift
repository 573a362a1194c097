import Synchronization

/// What the route feed still has to read: the tools whose hash changed, and whether a full
/// resync is due. A burst of writes to one hash becomes one re-read, and reads are batched, yet
/// every change is read after it happened, so the last read always reflects the last write.
final class PendingRouteReads: Sendable {
    struct Work: Sendable {
        /// Changed tools, in the order their first change was seen.
        var tools: [String] = []
        var marked: Set<String> = []
        var resync = false
    }

    private let state = Mutex(Work())
    /// Yields when there is work; holds at most one wakeup, since one `take()` takes it all.
    let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init() {
        (wakeups, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func changed(_ tool: String) {
        state.withLock { work in
            if work.marked.insert(tool).inserted { work.tools.append(tool) }
        }
        wake.yield()
    }

    func resyncDue() {
        state.withLock { $0.resync = true }
        wake.yield()
    }

    /// Everything pending, leaving nothing. A resync covers every changed tool, as long as it
    /// starts after this call.
    func take() -> Work {
        state.withLock { work in
            defer { work = Work() }
            return work
        }
    }
}
