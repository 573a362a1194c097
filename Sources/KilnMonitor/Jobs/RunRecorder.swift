import KilnCore
import KilnStore
import Logging

/// Writes runs' states to the store in batches: every state saved while a write is under way goes
/// in the next one, as one transaction. A thousand runs starting in one second cost a few disk
/// syncs, not a thousand. `save` returns once its state is stored (or the write failed, logged).
actor RunRecorder {
    let store: KilnStore
    let logger: Logger
    private var pending: [Int64: JobRun] = [:]
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var writing = false

    init(store: KilnStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func save(_ run: JobRun) async {
        // A later state of the same run replaces one not yet written.
        pending[run.id] = run
        await withCheckedContinuation { continuation in
            waiters.append(continuation)
            if !writing {
                writing = true
                Task { await self.write() }
            }
        }
    }

    private func write() async {
        while !pending.isEmpty {
            let batch = pending.values.sorted { $0.id < $1.id }
            let told = waiters
            pending.removeAll()
            waiters.removeAll()
            do {
                try await store.saveRuns(batch)
            } catch {
                logger.error("cannot record job runs", metadata: ["runs": "\(batch.count)", "error": "\(error)"])
            }
            for waiter in told { waiter.resume() }
        }
        writing = false
    }
}
