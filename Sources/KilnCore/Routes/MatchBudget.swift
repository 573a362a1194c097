#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The processor time one request may spend matching route patterns, counted on the calling
/// thread's own clock (`CLOCK_THREAD_CPUTIME_ID`): what the matching takes from its event loop,
/// not the time the thread waited for a processor, so a busy host never makes a cheap match look
/// expensive.
struct MatchBudget {
    private let deadline: Duration

    init(_ allowed: Duration) {
        deadline = Self.threadTime() + allowed
    }

    var isSpent: Bool { Self.threadTime() > deadline }

    static func threadTime() -> Duration {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec)
    }
}
