import KilnCore
import KilnFiles
import KilnFormats
import KilnRunner

extension ServiceTemplate {
    /// `service.template` (or `service.manifest`, which reads the same) in a tool's home; nil
    /// when there is none. Read through the home as the tool's (a link to another file is
    /// refused, not read) and no further than a template can be.
    static func read(_ fileName: String, in files: ConfinedDirectory) throws(KilnError) -> ServiceTemplate? {
        let path = HomePath(platform: fileName)
        guard let file = try files.openForReading(path) else { return nil }
        let limit = ServiceTemplate.maximumBytes
        guard LogFile.size(of: file) <= UInt64(limit) else {
            throw KilnError(.badRequest, "\(fileName) is larger than \(limit) bytes", context: ["file": fileName])
        }
        let bytes = try LogFile.read(file, from: 0, upTo: limit, path.absolute(in: files.path))
        return try ServiceTemplate(parsing: String(decoding: bytes, as: UTF8.self), fileName: fileName)
    }
}
