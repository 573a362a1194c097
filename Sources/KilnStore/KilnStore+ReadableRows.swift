import GRDB
import Logging

extension KilnStore {
    /// `decode(row)`, or nil (logged) when the row no longer decodes.
    static func readable<Record>(_ row: Row, as kind: String, logger: Logger, _ decode: (Row) throws -> Record) -> Record? {
        do {
            return try decode(row)
        } catch {
            logger.error(
                "a stored \(kind) no longer reads and is left out", metadata: ["tool": "\(row["tool"] as String? ?? "?")", "error": "\(error)"])
            return nil
        }
    }
}
