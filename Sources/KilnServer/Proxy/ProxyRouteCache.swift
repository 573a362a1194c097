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
        let bytes: [UInt8]
        do {
            bytes = try Self.encode(contents)
        } catch {
            throw KilnError(.storage, "cannot encode the routes for \(path): \(error)", context: ["path": path])
        }
        try PrivateDirectory.writePrivateFile(bytes, to: path)
    }

    /// Elements JSONEncoder is given at once: it builds a tree of the whole value before its
    /// bytes, several times their size, and a table may hold 100,000 tools.
    static let piece = 2048

    /// `Contents` as JSON, its routes and owners encoded a piece at a time.
    static func encode(_ contents: Contents) throws -> [UInt8] {
        let encoder = JSONEncoder()
        var bytes = Array(#"{"notices":"#.utf8)
        bytes += try encoder.encode(contents.notices)
        bytes += Array(#","routes":"#.utf8)
        let routes = contents.routes
        try appendInPieces(count: routes.count, open: "[", close: "]", to: &bytes) { (range: Range<Int>) in
            try encoder.encode(Array(routes[range]))
        }
        bytes += Array(#","owners":"#.utf8)
        let owners = Array(contents.owners)
        try appendInPieces(count: owners.count, open: "{", close: "}", to: &bytes) { range in
            try encoder.encode(Dictionary(owners[range].map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first }))
        }
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// One JSON array (or object) of `count` elements from pieces that `encode` makes of a range
    /// of them, each an array (or object) itself whose brackets are dropped.
    private static func appendInPieces(
        count: Int, open: Unicode.Scalar, close: Unicode.Scalar, to bytes: inout [UInt8], encode: (Range<Int>) throws -> Data
    ) throws {
        bytes.append(UInt8(ascii: open))
        var first = true
        for start in stride(from: 0, to: count, by: piece) {
            let encoded = try encode(start..<min(start + piece, count))
            guard encoded.count > 2 else { continue }
            if !first { bytes.append(UInt8(ascii: ",")) }
            bytes += encoded.dropFirst().dropLast()
            first = false
        }
        bytes.append(UInt8(ascii: close))
    }
}
