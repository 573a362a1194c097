/// How many builds run at once on this host: the others wait their turn (in order, `pending`),
/// so tools building together share the machine rather than starve the tools that serve.
actor BuildSlots {
    private var free: Int
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextID: UInt64 = 0

    init(count: Int) { free = max(1, count) }

    /// Takes a slot, waiting for one; false (no slot taken) when the task is cancelled first.
    func acquire() async -> Bool {
        guard !Task.isCancelled else { return false }
        if free > 0 {
            free -= 1
            return true
        }
        let id = nextID
        nextID += 1
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // Cancelled before it could wait: its cancel handler may already have looked.
                if Task.isCancelled {
                    continuation.resume(returning: false)
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.giveUp(id) }
        }
    }

    /// Hands the slot to the longest waiter, or frees it.
    func release() {
        if waiters.isEmpty {
            free += 1
        } else {
            waiters.removeFirst().continuation.resume(returning: true)
        }
    }

    var waiting: Int { waiters.count }

    private func giveUp(_ id: UInt64) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(returning: false)
    }
}
