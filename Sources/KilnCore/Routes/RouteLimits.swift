/// What one tool's routes may cost the platform: registrations past these are refused with a 4xx,
/// and routes written past them by other software (into Redis) are left out of the route table.
public enum RouteLimits {
    /// Distinct patterns per tool (a pattern with several backends counts once).
    public static let patternsPerTool = 100
    /// Bytes (UTF-8) of one pattern.
    public static let patternBytes = 512

    // A match that takes more than these is abandoned and treated as no match. A route's pattern
    // needs a few dozen steps on a usual path; `^/(a+)+$` on a long path of `a`s needs more than
    // there are atoms in the universe. The limit stops it after about 0.1 ms (bench/route-match.sh).

    /// PCRE2's match limit: calls of its internal match function. The interpreter makes one per
    /// position a `.*` gives back, so `^/.*b$` on a path as long as the proxy's largest head
    /// (32 KiB) needs about 32,000; the JIT counts far fewer.
    static let matchSteps: UInt32 = 100_000
    /// PCRE2's depth limit: nested backtracking points (the interpreter's; the JIT is bounded by
    /// its stack).
    static let backtrackingDepth: UInt32 = 10_000
    /// PCRE2's heap limit, in KiB: the interpreter's backtracking frames of one match.
    static let matchHeapKiB: UInt32 = 4096
    /// The processor time all of one tool's patterns may take on one request (each within the
    /// limits above; counted from the first pattern that did not match): about the most a
    /// request holds its event loop in route matching, where 100 patterns each just short of the
    /// limit would take some 15 ms.
    public static let matchTimePerRequest: Duration = .milliseconds(1)
    /// Each thread's JIT stack: where it starts and how far it may grow, in bytes.
    static let jitStackStart = 32 * 1024
    static let jitStackMaximum = 512 * 1024
}

extension RouteLimits {
    /// The refusal of a tool's pattern past `patternsPerTool`.
    public static func tooManyPatterns(tool: String, pattern: String) -> KilnError {
        KilnError(
            .quotaExceeded,
            "tool '\(tool)' already has \(patternsPerTool) route patterns, the most a tool may have: a new 'pattern' is refused "
                + "(add backends to one of its patterns, or remove one)",
            context: ["tool": tool, "field": "pattern", "pattern": pattern, "limit": "\(patternsPerTool) patterns"])
    }
}
