/// One line of the control plane's route feed (`GET /v1/routes/feed`), as JSON: what a proxy of
/// its own process (or on another machine) needs to route as the platform's own proxy would —
/// the routes, whose listeners each tool's backends must be, and the notices its error pages
/// show. A feed begins with a snapshot, or, for a proxy that says where it left off (`since`),
/// with only the changes it missed; then changes as they happen, and heartbeats while idle.
public enum RouteFeedMessage: Sendable, Hashable, Codable {
    /// Everything at `position`: tools not named have no routes, no owner, no notice.
    case snapshot(position: RouteFeedPosition, routes: [Route], owners: [String: UInt32], notices: [String: String])
    /// The tool's routes are now exactly these; `owner` is the uid its listeners must have (nil:
    /// not checked, the admin's routes).
    case replaced(version: UInt64, tool: String, routes: [Route], owner: UInt32?)
    /// The notice a tool's error pages show (nil: none).
    case notice(version: UInt64, tool: String, notice: String?)
    /// Nothing changed lately: the feed is alive (a proxy that hears nothing for long reconnects).
    case heartbeat
}

/// Where a feed is: the control plane's run (a new one after each start) and the last change.
public struct RouteFeedPosition: Sendable, Hashable, Codable, CustomStringConvertible {
    public var epoch: String
    public var version: UInt64

    public init(epoch: String, version: UInt64) {
        self.epoch = epoch
        self.version = version
    }

    /// `EPOCH:VERSION`, as the `since` query parameter carries it.
    public var description: String { "\(epoch):\(version)" }

    public init?(parsing text: Substring) {
        guard let colon = text.lastIndex(of: ":"), let version = UInt64(text[text.index(after: colon)...]) else { return nil }
        let epoch = text[..<colon]
        guard !epoch.isEmpty, epoch.count <= 64, epoch.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else { return nil }
        self.init(epoch: String(epoch), version: version)
    }
}

extension RouteFeedMessage {
    /// The change's number (a snapshot's: the position it is at); nil for a heartbeat.
    public var version: UInt64? {
        switch self {
        case .snapshot(let position, _, _, _): position.version
        case .replaced(let version, _, _, _), .notice(let version, _, _): version
        case .heartbeat: nil
        }
    }
}
