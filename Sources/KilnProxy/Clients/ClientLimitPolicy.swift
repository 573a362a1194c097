import KilnCore

/// What one client address may ask of the proxy (Toolforge's front proxy has the same defaults):
/// a token bucket of requests, a cap on open connections, and a User-Agent on every request.
public struct ClientLimitPolicy: Sendable, Hashable {
    /// Requests per second a client address may keep up; 0 turns the rate limit off.
    public var requestsPerSecond: Int
    /// Requests a client address may make at once above the rate (the bucket's size).
    public var burst: Int
    /// Connections a client address may hold open at once; 0 turns the cap off.
    public var connectionsPerAddress: Int
    /// Requests without a User-Agent are refused (403), as Toolforge's front does.
    public var requiresUserAgent: Bool

    public init(requestsPerSecond: Int = 100, burst: Int = 100, connectionsPerAddress: Int = 256, requiresUserAgent: Bool = true) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
        self.connectionsPerAddress = connectionsPerAddress
        self.requiresUserAgent = requiresUserAgent
    }

    /// The most any of these may be: past it a value is a typo, not a policy.
    public static let largest = 10_000_000

    /// Refuses what cannot be a policy, naming the flag.
    public func validate() throws(KilnError) {
        for (name, value) in [
            ("rate-limit", requestsPerSecond), ("rate-burst", burst), ("max-connections-per-address", connectionsPerAddress),
        ] where !(0...Self.largest).contains(value) {
            throw KilnError(.badRequest, "--\(name) must be from 0 to \(Self.largest), not \(value)", context: ["field": name])
        }
        if requestsPerSecond > 0, burst < 1 {
            throw KilnError(.badRequest, "--rate-burst must be at least 1 while --rate-limit is on", context: ["field": "rate-burst"])
        }
    }
}
