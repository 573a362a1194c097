import Foundation
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

extension ImageStore {
    /// The sealed image `name` stands for, read from its folder: `latest` is the highest tag
    /// whose folder and manifest are the platform's (a build under way, the tool's, is not an
    /// image yet). Only the tool's own images: `name.tool` must be `tool`, and another tool's
    /// image is answered as unknown, which tells nothing of it.
    public func manifest(of name: BuiltImageName, for tool: ToolName) throws(KilnError) -> ImageManifest {
        func unknown() -> KilnError {
            KilnError(
                .badRequest,
                "unknown image '\(name)': the tool '\(tool)' can run only the images it built (tool-\(tool)/NAME:latest; see `kiln build list`)",
                context: ["field": "image", "value": name.description])
        }
        guard name.tool == tool else { throw unknown() }
        let folder = self.folder(of: tool) + "/" + name.name
        let tags: [Int]
        switch name.tag {
        case .number(let tag):
            tags = [tag]
        case .latest:
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            tags = entries.compactMap { entry in entry.utf8.count <= 10 && entry.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } ? Int(entry) : nil }
                .sorted(by: >)
        }
        for tag in tags {
            if let manifest = try sealedManifest(at: folder + "/" + String(tag)), manifest.tool == tool, manifest.name == name.name {
                return manifest
            }
        }
        throw unknown()
    }

    /// The manifest in a tag's folder, when folder and file are the platform's; nil otherwise.
    private func sealedManifest(at path: String) throws(KilnError) -> ImageManifest? {
        let folder = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard folder >= 0 else { return nil }
        defer { close(folder) }
        var info = stat()
        guard fstat(folder, &info) == 0, info.st_uid == platform.uid else { return nil }
        let file = openat(folder, "image.json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard file >= 0 else { return nil }
        defer { close(file) }
        guard fstat(file, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == platform.uid, info.st_size < 1 << 20 else { return nil }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(file, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(ImageManifest.self, from: data)
    }
}
