import Foundation
import KilnCore
import KilnRunner

extension BuildToolchain {
    /// What this host has: every `python3.N` on the search path, node (and its major version),
    /// npm, php, composer, go.
    public static func host(searchPath: [String] = ["/usr/local/bin", "/usr/bin", "/bin"], runtimes: HostRuntimes = .shared) -> BuildToolchain {
        func find(_ program: String) -> String? {
            searchPath.map { $0 + "/" + program }.first(where: FileManager.default.isExecutableFile(atPath:))
        }
        var pythons: [String: String] = [:]
        for folder in searchPath.reversed() {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix("python3.") {
                let minor = name.dropFirst("python3.".count)
                guard !minor.isEmpty, minor.count <= 3, minor.allSatisfy(\.isNumber), FileManager.default.isExecutableFile(atPath: folder + "/" + name)
                else { continue }
                pythons["3." + minor] = folder + "/" + name
            }
        }
        var pythonsWithPip: Set<String> = []
        for (version, path) in pythons where Self.succeeds(path, ["-m", "pip", "--version"]) { pythonsWithPip.insert(version) }
        let node = runtimes.find(.node).map { found in
            Program(path: found.path, major: found.version.flatMap(Self.nodeMajor))
        }
        var toolchain = BuildToolchain(
            pythons: pythons, node: node, npm: find("npm"), php: find("php"), composer: find("composer"), go: find("go"))
        toolchain.pythonsWithPip = pythonsWithPip
        return toolchain
    }

    /// Whether `program ARGUMENTS` exits 0 (output discarded).
    static func succeeds(_ program: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// `v18.19.0` → 18.
    static func nodeMajor(_ version: String) -> Int? {
        let text = version.hasPrefix("v") ? version.dropFirst() : Substring(version)
        guard let first = text.split(separator: ".").first, first.count <= 4 else { return nil }
        return Int(first)
    }

    /// Debian packages of `names` that are installed (asked of dpkg only for names that can be
    /// package names: an Aptfile is the tool's input).
    public static func installedPackages(among names: [String]) async -> Set<String> {
        let valid = names.filter { name in
            let bytes = Array(name.utf8)
            guard let first = bytes.first, bytes.count <= 128 else { return false }
            let isAlphanumeric = { (byte: UInt8) in (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) }
            return isAlphanumeric(first)
                && bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
        }
        guard !valid.isEmpty else { return [] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/dpkg-query")
        process.arguments = ["-W", "-f", "${Package} ${db:Status-Status}\n", "--"] + valid
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return [] }
        let data = await Task.detached { output.fileHandleForReading.readDataToEndOfFile() }.value
        process.waitUntilExit()
        var installed: Set<String> = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, words[1] == "installed" { installed.insert(String(words[0].split(separator: ":").first ?? words[0])) }
        }
        return installed
    }
}
