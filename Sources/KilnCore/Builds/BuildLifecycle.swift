/// The lifecycle of one build: queued, then running step after step, then ended one way. A
/// transition the state does not allow (a cancel after the end) is refused with what the build
/// already is, so `build cancel` of an ended build says so rather than changing it.
public enum BuildLifecycle: Sendable, Hashable, Codable {
    case pending
    case running(step: BuildStep)
    /// Ended with an image, tagged with the build's number.
    case succeeded(tag: Int)
    case failed(step: BuildStep, reason: String)
    case cancelled(step: BuildStep?)
    case timedOut(step: BuildStep)

    public enum Event: Sendable, Hashable {
        case stepBegan(BuildStep)
        case stepFailed(reason: String)
        /// The image was sealed and tagged.
        case exported(tag: Int)
        case cancelRequested
        case deadlinePassed
        /// The server stopped while the build ran: its processes were killed with it.
        case interrupted(reason: String)
    }

    public var hasEnded: Bool {
        switch self {
        case .pending, .running: false
        case .succeeded, .failed, .cancelled, .timedOut: true
        }
    }

    /// Toolforge's words (`toolforge build list`).
    public var word: String {
        switch self {
        case .pending: "BUILD_PENDING"
        case .running: "BUILD_RUNNING"
        case .succeeded: "BUILD_SUCCESS"
        case .failed: "BUILD_FAILURE"
        case .cancelled: "BUILD_CANCELLED"
        case .timedOut: "BUILD_TIMEOUT"
        }
    }

    /// The step under way or where the build ended; nil before the first and after a success.
    public var step: BuildStep? {
        switch self {
        case .pending, .succeeded: nil
        case .running(let step), .failed(let step, _), .timedOut(let step): step
        case .cancelled(let step): step
        }
    }

    /// What `build show` says of it.
    public var message: String {
        switch self {
        case .pending: "waiting for a free build slot (builds run a few at a time on this host)"
        case .running(let step): "\(step.summary) (step '\(step.rawValue)')"
        case .succeeded(let tag): "built; tagged latest and \(tag)"
        case .failed(let step, let reason): "step '\(step.rawValue)' failed: \(reason)"
        case .cancelled(let step): step.map { "cancelled during step '\($0.rawValue)'" } ?? "cancelled before it started"
        case .timedOut(let step): "step '\(step.rawValue)' ran past the build's time limit"
        }
    }

    /// The state after `event`; an event the state does not allow is a conflict naming the state.
    public func after(_ event: Event) throws(KilnError) -> BuildLifecycle {
        switch (self, event) {
        case (.pending, .stepBegan(let step)):
            return .running(step: step)
        case (.running(let current), .stepBegan(let step)):
            guard step.order > current.order else {
                throw refused(event)
            }
            return .running(step: step)
        case (.running(let step), .stepFailed(let reason)):
            return .failed(step: step, reason: reason)
        case (.running(.export), .exported(let tag)):
            return .succeeded(tag: tag)
        case (.pending, .cancelRequested):
            return .cancelled(step: nil)
        case (.running(let step), .cancelRequested):
            return .cancelled(step: step)
        case (.running(let step), .deadlinePassed):
            return .timedOut(step: step)
        case (.pending, .interrupted(let reason)):
            return .failed(step: .clone, reason: reason)
        case (.running(let step), .interrupted(let reason)):
            return .failed(step: step, reason: reason)
        case (.pending, .stepFailed), (.pending, .exported), (.pending, .deadlinePassed), (.running, .exported):
            throw refused(event)
        case (.succeeded, _), (.failed, _), (.cancelled, _), (.timedOut, _):
            throw refused(event)
        }
    }

    private func refused(_ event: Event) -> KilnError {
        hasEnded
            ? KilnError(.conflict, "the build has already ended (\(word)): \(message)", context: ["status": word])
            : KilnError(.internalError, "a build in state \(word) cannot take \(event)", context: ["status": word])
    }
}
