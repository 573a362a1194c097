import Foundation
import KilnCore
import KilnFiles

#if canImport(Glibc)
import Glibc
#endif

extension SourceFacts {
    /// Reads what decides a build from the checkout at `app`, as the tool's files (never
    /// following a link, never a file of someone else's: see `ConfinedDirectory`). A Procfile
    /// or package.json that cannot be read is an error naming the file.
    public static func read(checkout app: String, owner: FileOwner) throws(KilnError) -> SourceFacts {
        let checkout = ConfinedDirectory(path: app, owner: owner)
        // The checkout is the tool's: looked at through its descriptor, never by a path below it.
        let folder = open(app, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard folder >= 0 else { throw KilnError(.storage, "cannot open the checkout \(app): \(String(cString: strerror(errno)))") }
        defer { close(folder) }
        var files: Set<String> = []
        for name in decidingFiles {
            var info = stat()
            if fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 { files.insert(name) }
        }
        func text(_ name: String, limit: Int = 256 * 1024) throws(KilnError) -> String? {
            guard files.contains(name), let descriptor = try checkout.openForReading(HomePath(platform: name)) else { return nil }
            let bytes = try Self.readAll(descriptor, limit: limit, name: name)
            return String(decoding: bytes, as: UTF8.self)
        }
        var facts = SourceFacts(files: files)
        facts.procfile = try text("Procfile").map { (text) throws(KilnError) in try Procfile(parsing: text) }
        let pythonVersion = try text(".python-version")?.split(separator: "\n").first.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        let runtimeTxt = try text("runtime.txt")?.split(separator: "\n").first.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        facts.pythonVersion = pythonVersion ?? runtimeTxt.flatMap { $0.hasPrefix("python-") ? $0 : nil }
        if let package = try text("package.json", limit: 1 << 20) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(package.utf8)) as? [String: Any] else {
                throw KilnError(.badRequest, "package.json is not a JSON object", context: ["file": "package.json"])
            }
            facts.nodeEngine = (object["engines"] as? [String: Any])?["node"] as? String
            facts.packageScripts = Set(((object["scripts"] as? [String: Any]) ?? [:]).keys)
        }
        if let module = try text("go.mod") {
            facts.goModule = module.split(separator: "\n").lazy.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
                .first { $0.hasPrefix("module ") }.map { String($0.dropFirst("module ".count)).trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        if let aptfile = try text("Aptfile") {
            facts.aptPackages = aptfile.split(separator: "\n").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        }
        return facts
    }

    static func readAll(_ descriptor: borrowing Descriptor, limit: Int, name: String) throws(KilnError) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor.rawValue, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            guard count > 0 else {
                if errno == EINTR || errno == EAGAIN { continue }
                throw KilnError(.storage, "cannot read \(name) in the checkout", context: ["file": name])
            }
            bytes += buffer[0..<count]
            guard bytes.count <= limit else {
                throw KilnError(.badRequest, "\(name) is larger than \(limit) bytes", context: ["file": name])
            }
        }
    }
}
