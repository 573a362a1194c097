import KilnCore
import NIOCore

/// Chooses which backend of a group takes a request: the one with the fewest requests outstanding
/// (least outstanding requests), ties taken in turn. A backend whose connect failed is ejected:
/// skipped until `cooldown` passes or the route table changes (a re-registration brings it back
/// at once). When every backend is ejected the one ejected longest ago is still tried, since a
/// maybe-dead backend is better than a certain 502.
///
/// One per event loop, next to its upstream pool, so choosing needs no lock. Pure state: the
/// caller passes the time and the route table's generation.
struct BackendSelector {
    let cooldown: TimeAmount
    private var generation: UInt64 = 0
    private var outstanding: [BackendAddress: Int] = [:]
    private var ejectedAt: [BackendAddress: NIODeadline] = [:]
    /// Where each group's next tie-break starts (round robin).
    private var cursors: [BackendGroup: Int] = [:]

    init(cooldown: TimeAmount = .seconds(10)) {
        self.cooldown = cooldown
    }

    /// A backend of `group` not in `excluded` (the ones already failed for this request); nil
    /// when none is left.
    mutating func select(
        from group: BackendGroup, excluding excluded: [BackendAddress], generation: UInt64, now: NIODeadline
    ) -> BackendAddress? {
        observe(generation: generation)
        let backends = group.backends
        let start = cursors[group] ?? 0
        var best: Int?
        var bestLoad = Int.max
        var longestEjected: Int?
        var longestEjectedAt = NIODeadline.distantFuture
        for step in 0..<backends.count {
            let index = (start + step) % backends.count
            let backend = backends[index]
            if excluded.contains(backend) { continue }
            if let since = ejectedAt[backend] {
                if now - since < cooldown {
                    if since < longestEjectedAt {
                        longestEjected = index
                        longestEjectedAt = since
                    }
                    continue
                }
                // Cooled down: on trial again; another failure ejects it anew.
                ejectedAt[backend] = nil
            }
            let load = outstanding[backend] ?? 0
            if load < bestLoad {
                best = index
                bestLoad = load
            }
        }
        guard let chosen = best ?? longestEjected else { return nil }
        cursors[group] = (chosen + 1) % backends.count
        return backends[chosen]
    }

    /// An exchange took `backend` (from acquiring its connection).
    mutating func started(_ backend: BackendAddress) {
        outstanding[backend, default: 0] += 1
    }

    /// An exchange on `backend` finished or failed.
    mutating func finished(_ backend: BackendAddress) {
        guard let count = outstanding[backend] else { return }
        outstanding[backend] = count > 1 ? count - 1 : nil
    }

    /// Connecting to `backend` failed: nothing was sent, so the request may go elsewhere.
    mutating func connectFailed(_ backend: BackendAddress, now: NIODeadline) {
        ejectedAt[backend] = now
    }

    func outstanding(on backend: BackendAddress) -> Int { outstanding[backend] ?? 0 }

    func isEjected(_ backend: BackendAddress, now: NIODeadline) -> Bool {
        ejectedAt[backend].map { now - $0 < cooldown } ?? false
    }

    /// A new route table forgives every ejection; tie-break positions of groups that may be gone
    /// are dropped too, which keeps this bounded by the table.
    private mutating func observe(generation: UInt64) {
        guard generation != self.generation else { return }
        self.generation = generation
        ejectedAt.removeAll()
        cursors.removeAll()
    }
}
