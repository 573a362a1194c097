import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// A grid job's state, from either grid, in one vocabulary: what SGE's state letters (`qw`,
/// `r`, `Eqw`, `dr`…) and Slurm's states (`PENDING`, `RUNNING`, `NODE_FAIL`, `OUT_OF_MEMORY`…)
/// mean for a run.
public enum GridJobState: Sendable, Hashable {
    /// Waiting for the scheduler (or requeued), with the grid's reason when it gives one.
    case pending(reason: String?)
    /// Held by someone (a user, an operator, a dependency); it will not start until released.
    case held(reason: String?)
    case running
    case suspended
    /// Its processes are ending (Slurm's COMPLETING, SGE's deletion `d`).
    case ending
    /// Ended, exit code 0 (Slurm's COMPLETED; SGE lists no ended jobs).
    case completed
    /// Ended otherwise, with the grid's reason when it gives one.
    case failed(reason: String?)
    /// Stuck in an error state (SGE's `E`: it could not be started and will not be again until
    /// an operator clears it): the platform removes it and reports the reason.
    case error(reason: String?)
    case cancelled
    case timedOut
    case outOfMemory
    /// The execution host failed under it (or could not boot for it).
    case nodeFailed
    /// A state this version does not know, as the grid spelled it.
    case other(String)

    /// Whether the job will run no more.
    public var isFinished: Bool {
        switch self {
        case .pending, .held, .running, .suspended, .ending, .error, .other: false
        case .completed, .failed, .cancelled, .timedOut, .outOfMemory, .nodeFailed: true
        }
    }

    /// In Kiln's words, as `jobs show` says a run's state.
    public var word: String {
        switch self {
        case .pending: "Pending"
        case .held: "Pending (held)"
        case .running: "Running"
        case .suspended: "Suspended"
        case .ending: "Ending"
        case .completed: "Completed"
        case .failed: "Failed"
        case .error: "Failed (grid error)"
        case .cancelled: "Cancelled"
        case .timedOut: "Timed out"
        case .outOfMemory: "Failed (out of memory)"
        case .nodeFailed: "Failed (node failure)"
        case .other(let state): "Unknown (\(state))"
        }
    }

    /// The grid's reason, when it gave one.
    public var reason: String? {
        switch self {
        case .pending(let reason), .held(let reason), .failed(let reason), .error(let reason): reason
        case .running, .suspended, .ending, .completed, .cancelled, .timedOut, .outOfMemory, .nodeFailed, .other: nil
        }
    }

    /// How a finished job ended, when its state alone says (no exit file, no accounting): nil
    /// when it does not.
    public func impliedStatus(memory: MemorySize) -> ExitStatus? {
        switch self {
        case .completed: .exited(code: 0)
        case .outOfMemory: .outOfMemory(limit: memory)
        case .cancelled: .signaled(signal: SIGTERM)
        case .timedOut: .signaled(signal: SIGKILL)
        case .error(let reason): .couldNotStart(reason: reason ?? "the grid could not start it")
        case .pending, .held, .running, .suspended, .ending, .failed, .nodeFailed, .other: nil
        }
    }
}
