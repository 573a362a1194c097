import NIOConcurrencyHelpers

/// What the proxy's "not running" page says of a tool beyond that: set by the monitor when a
/// webservice has failed (and why), cleared when it is started again. Read only on that page's
/// path, never on a routed request's.
public final class ToolNotices: Sendable {
    private let notices = NIOLockedValueBox<[String: String]>([:])

    public init() {}

    public func set(_ notice: String?, for tool: String) {
        notices.withLockedValue { $0[tool] = notice }
    }

    public func notice(for tool: String) -> String? {
        notices.withLockedValue { $0[tool] }
    }

    /// Every tool's notice: what a proxy keeps of them across a restart.
    public var all: [String: String] { notices.withLockedValue { $0 } }
}
