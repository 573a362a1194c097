import Foundation
import KilnCore

/// The runtimes this host has for jobs' images: each image runs on the host's program of its
/// runtime (the nearest version the host has), found once.
public struct HostRuntimes: Sendable {
    public struct Found: Sendable, Hashable, Codable {
        public var path: String
        /// What the program says of its version (first line), when it says.
        public var version: String?
    }

    public let searchPath: [String]
    private let found: [JobImage.Runtime: Found]

    public init(searchPath: [String] = ["/usr/local/bin", "/usr/bin", "/bin"]) {
        self.searchPath = searchPath
        var found: [JobImage.Runtime: Found] = [:]
        for runtime in JobImage.Runtime.allCases {
            guard let path = searchPath.map({ $0 + "/" + runtime.program }).first(where: FileManager.default.isExecutableFile(atPath:))
            else { continue }
            found[runtime] = Found(path: path, version: Self.version(of: path, runtime: runtime))
        }
        self.found = found
    }

    public static let shared = HostRuntimes()

    public func find(_ runtime: JobImage.Runtime) -> Found? { found[runtime] }

    /// Refuses an image whose runtime this host lacks, saying which program is missing.
    public func check(_ image: JobImage) throws(KilnError) -> Found {
        guard let runtime = find(image.runtime) else {
            throw KilnError(
                .unavailable, "this host cannot run image '\(image.shortName)': it has no \(image.runtime.program)",
                context: ["field": "image", "value": image.shortName])
        }
        return runtime
    }

    static func version(of path: String, runtime: JobImage.Runtime) -> String? {
        let argument: String? =
            switch runtime {
            case .python, .php, .node, .mariadb: "--version"
            case .java: "-version"
            case .mono: "--version"
            case .debian: nil
            }
        guard let argument else {
            return (try? String(contentsOfFile: "/etc/debian_version", encoding: .utf8)).map { "Debian " + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [argument]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init)
    }
}
