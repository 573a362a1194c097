import Foundation
import KilnCore
import KilnFiles

/// The routes a proxy alone (`kiln proxy`) last had, kept in its data directory, so that one
/// started while its control plane or Redis is away (a crash of both, a host rebooting during an
/// outage) serves the tools as it did rather than a 503 for each. Written by rename, 0600, and
/// read back only when it is the proxy's own and no one else could have written it: whoever
/// writes it routes every tool.
public struct ProxyRouteCache: Sendable {
    /// What is kept: the table's routes, and what the control plane said with them.
    struct Contents: Sendable, Hashable, Codable {
        var routes: [Route]
        /// The uid each tool's listeners must have (from the control plane's feed; a proxy fed
        /// from Redis asks the tools' Unix accounts again).
        var owners: [String: UInt32]
        /// The notices tools' error pages show.
        var notices: [String: String]
    }

    public let path: String

    /// As large as the feed's largest snapshot.
    static let largestFile = ControlPlaneRouteFeed.largestLine

    public init(directory: String) {
        path = directory + "/routes.json"
    }

    /// What was kept; nil when nothing was.
    func load() throws(KilnError) -> Contents? {
        guard let bytes = try PrivateDirectory.readPrivateFile(path, maximumBytes: Self.largestFile) else { return nil }
        do {
            return try JSONDecoder().decode(Contents.self, from: Data(bytes))
        } catch {
            throw KilnError(.storage, "\(path) does not hold routes: \(error)", context: ["path": path])
        }
    }

    func save(_ contents: Contents) throws(KilnError) {
        let data: Data
        do {
            data = try JSONEncoder().encode(contents)
        } catch {
            throw KilnError(.storage, "cannot encode the routes for \(path): \(error)", context: ["path": path])
        }
        try PrivateDirectory.writePrivateFile(Array(data), to: path)
    }
}
