import CPCRE2

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What PCRE2 writes while matching on one thread: the match data, a match context carrying the
/// limits of `RouteLimits`, and a JIT stack. Never shared between threads: each thread (each of
/// the proxy's event loops) makes its own at its first match and keeps it until it ends, so no
/// request allocates one.
final class PatternMatchScratch {
    let matchData: OpaquePointer
    let context: OpaquePointer
    private let jitStack: OpaquePointer?

    /// nil when PCRE2 cannot allocate them (then no pattern matches on this thread).
    private init?() {
        guard let context = pcre2_match_context_create_8(nil) else { return nil }
        // One pair of offsets: a route only asks whether the pattern matches, not where.
        guard let matchData = pcre2_match_data_create_8(1, nil) else {
            pcre2_match_context_free_8(context)
            return nil
        }
        pcre2_set_match_limit_8(context, RouteLimits.matchSteps)
        pcre2_set_depth_limit_8(context, RouteLimits.backtrackingDepth)
        pcre2_set_heap_limit_8(context, RouteLimits.matchHeapKiB)
        // Without a stack of its own the JIT uses 32 KiB of the thread's; with one, it is this
        // thread's alone. Failing that, the default still works.
        jitStack = pcre2_jit_stack_create_8(RouteLimits.jitStackStart, RouteLimits.jitStackMaximum, nil)
        if let jitStack { pcre2_jit_stack_assign_8(context, nil, UnsafeMutableRawPointer(jitStack)) }
        self.context = context
        self.matchData = matchData
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_match_context_free_8(context)
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
    }

    /// The calling thread's scratch, made at its first match; nil only when allocation failed.
    static var current: PatternMatchScratch? {
        guard let key = scratchKey else { return nil }
        if let stored = pthread_getspecific(key) {
            return Unmanaged<PatternMatchScratch>.fromOpaque(stored).takeUnretainedValue()
        }
        guard let scratch = PatternMatchScratch() else { return nil }
        let retained = Unmanaged.passRetained(scratch)
        guard pthread_setspecific(key, retained.toOpaque()) == 0 else {
            retained.release()
            return nil
        }
        return scratch
    }
}

/// The thread-specific slot of each thread's scratch, released when the thread exits.
private let scratchKey: pthread_key_t? = {
    var key = pthread_key_t()
    let created = pthread_key_create(&key) { stored in
        guard let stored else { return }
        Unmanaged<PatternMatchScratch>.fromOpaque(stored).release()
    }
    return created == 0 ? key : nil
}()
