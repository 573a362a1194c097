import Foundation
import KilnCore
import KilnFiles

#if canImport(Glibc)
import Glibc
#endif

/// Where images live: `ROOT/TOOL/NAME/TAG/` (its `app/`, its `layers/`, its `image.json`).
/// ROOT is the platform's (0711: passed through, never listed); `TOOL/` and `NAME/` are the
/// platform's with the tool's group (0750), so only the tool reaches its images, and no tool can
/// rename or replace one; a tag's folder is the tool's while its build writes it, then sealed
/// (`ImageTree`).
public struct ImageStore: Sendable {
    public let root: String
    /// Who owns the sealed images (the platform).
    public let platform: FileOwner

    public init(root: String, platform: FileOwner = .process) {
        self.root = root
        self.platform = platform
    }

    public func folder(of tool: ToolName) -> String { root + "/" + tool.rawValue }

    /// Who a sealed image of the tool's belongs to: the platform, with the tool's group (which
    /// may read it, and no one else).
    public func sealedOwner(for tool: FileOwner) -> FileOwner { FileOwner(uid: platform.uid, gid: tool.gid) }

    /// The tree of one image.
    public func tree(tool: ToolName, owner: FileOwner, name: String, tag: Int) -> ImageTree {
        ImageTree(path: folder(of: tool, name: name, tag: tag), builder: owner, sealedOwner: sealedOwner(for: owner))
    }

    public func folder(of tool: ToolName, name: String, tag: Int) -> String {
        folder(of: tool) + "/" + name + "/" + String(tag)
    }

    /// Makes the empty folder a build of `tool`'s writes its image into (the tool's), with the
    /// folders above it; an earlier leftover at that place is removed first.
    public func prepare(tool: ToolName, owner: FileOwner, name: String, tag: Int) throws(KilnError) -> String {
        guard BuiltImageName.problem(withName: name) == nil else {
            throw KilnError(.badRequest, "invalid image name '\(name)'", context: ["field": "image-name"])
        }
        try PrivateDirectory.ensure(root, mode: 0o711, owner: platform)
        let shared = FileOwner(uid: platform.uid, gid: owner.gid)
        try PrivateDirectory.ensure(folder(of: tool), mode: 0o750, owner: shared)
        try PrivateDirectory.ensure(folder(of: tool) + "/" + name, mode: 0o750, owner: shared)
        let path = folder(of: tool, name: name, tag: tag)
        try ImageTree(path: path, builder: owner, sealedOwner: sealedOwner(for: owner)).remove()
        guard mkdir(path, 0o700) == 0 else {
            throw KilnError(.storage, "cannot create \(path): \(String(cString: strerror(errno)))", context: ["path": path])
        }
        let opened = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard opened >= 0 else { throw KilnError(.storage, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(opened) }
        guard fchown(opened, owner.uid, owner.gid) == 0 || geteuid() != 0 else {
            throw KilnError(.storage, "cannot give \(path) to the tool: \(String(cString: strerror(errno)))")
        }
        return path
    }

    /// Writes the sealed image's manifest beside its files (the platform's, read-only to the tool).
    public func writeManifest(_ manifest: ImageManifest, owner: FileOwner) throws(KilnError) {
        let path = folder(of: manifest.tool, name: manifest.name, tag: manifest.tag)
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            data = try encoder.encode(manifest)
        } catch {
            throw KilnError(.internalError, "cannot encode the image's manifest: \(error)")
        }
        let folder = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard folder >= 0 else { throw KilnError(.storage, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(folder) }
        _ = fchmod(folder, 0o750)
        defer { _ = fchmod(folder, ImageTree.folderMode) }
        let file = openat(folder, "image.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o440)
        guard file >= 0 else { throw KilnError(.storage, "cannot create \(path)/image.json: \(String(cString: strerror(errno)))") }
        defer { close(file) }
        _ = fchown(file, platform.uid, owner.gid)
        let written = data.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
        guard written == data.count else { throw KilnError(.storage, "cannot write \(path)/image.json") }
    }

    /// Removes one image's files.
    public func remove(tool: ToolName, owner: FileOwner, name: String, tag: Int) throws(KilnError) {
        guard BuiltImageName.problem(withName: name) == nil else { return }
        try ImageTree(path: folder(of: tool, name: name, tag: tag), builder: owner, sealedOwner: sealedOwner(for: owner)).remove()
        rmdir(folder(of: tool) + "/" + name)
    }

    /// Removes every image of the tool's (`build clean`, the tool's deletion).
    public func removeAll(of tool: ToolName, owner: FileOwner) throws(KilnError) {
        try ImageTree(path: folder(of: tool), builder: owner, sealedOwner: sealedOwner(for: owner)).remove()
    }
}
