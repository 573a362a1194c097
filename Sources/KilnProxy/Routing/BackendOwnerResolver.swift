import KilnCore

/// Tells the proxy whose listeners a tool's backends must be: from the store on the server (the
/// tool's uid), from the tool's Unix account in a proxy fed from Redis.
public protocol BackendOwnerResolver: Sendable {
    /// The owner each of `tools` must have; a tool left out is `.anyone`.
    func owners(of tools: [String]) async -> [String: BackendOwner]
}
