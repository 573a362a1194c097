import Foundation
import KilnCore

/// The runtimes this host has for jobs' images and webservices' types: each runs on the host's program of its
/// runtime (the nearest version the host has), found once.
public struct HostRuntimes: Sendable {
    public struct Found: Sendable, Hashable, Codable {
        public var path: String
        /// What the program says of its version (first line), when it says.
        public var version: String?
    }

    public let searchPath: [String]
    private let found: [LanguageRuntime: Found]

    public init(searchPath: [String] = ["/usr/local/bin", "/usr/bin", "/bin"]) {
        self.searchPath = searchPath
        var found: [LanguageRuntime: Found] = [:]
        for runtime in LanguageRuntime.allCases {
            guard let path = searchPath.map({ $0 + "/" + runtime.program }).first(where: FileManager.default.isExecutableFile(atPath:))
            else { continue }
            found[runtime] = Found(path: path, version: Self.version(of: path, runtime: runtime))
        }
        self.found = found
    }

    public static let shared = HostRuntimes()

    public func find(_ runtime: LanguageRuntime) -> Found? { found[runtime] }

    /// Whether a program (a server a webservice type starts) is on the search path or in /usr/sbin.
    public func hasProgram(_ name: String) -> Bool {
        (searchPath + ["/usr/sbin"]).contains { FileManager.default.isExecutableFile(atPath: $0 + "/" + name) }
    }

    /// Refuses an image whose runtime this host lacks, saying which program is missing.
    public func check(_ image: JobImage) throws(KilnError) -> Found {
        guard let runtime = find(image.runtime) else {
            throw KilnError(
                .unavailable, "this host cannot run image '\(image.shortName)': it has no \(image.runtime.program)",
                context: ["field": "image", "value": image.shortName])
        }
        return runtime
    }

    static func version(of path: String, runtime: LanguageRuntime) -> String? {
        // What makes each program say its version (tclsh only answers a script on its input).
        if runtime == .debian {
            return (try? String(contentsOfFile: "/etc/debian_version", encoding: .utf8)).map {
                "Debian " + $0.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        let (arguments, input): ([String], String?) =
            switch runtime {
            case .python, .php, .node, .mariadb, .mono, .ruby: (["--version"], nil)
            case .java: (["-version"], nil)
            case .golang: (["version"], nil)
            case .perl: (["-e", "print \"perl $^V\\n\""], nil)
            case .tcl: ([], "puts \"Tcl [info patchlevel]\"\n")
            case .debian: ([], nil)
            }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        let standardInput = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = standardInput
        guard (try? process.run()) != nil else { return nil }
        if let input { standardInput.fileHandleForWriting.write(Data(input.utf8)) }
        try? standardInput.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").first { !$0.allSatisfy(\.isWhitespace) }.map(String.init)
    }
}
