import Crypto
import Foundation
import KilnCore

/// Seals envvar values for the store with AES-256-GCM under a key kept outside it (a file of
/// root's, mode 0600): the store alone reveals no value. The tool and the name are the
/// authenticated data, so a sealed value moved to another tool's row or name does not open.
public struct EnvvarVault: Sendable {
    /// The key's length in bytes.
    public static let keyBytes = 32

    // Bytes, made a key at each use: SymmetricKey is not Sendable.
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    public init(key: [UInt8]) throws(KilnError) {
        guard key.count == Self.keyBytes else {
            throw KilnError(.internalError, "the envvars key must be \(Self.keyBytes) bytes, not \(key.count)")
        }
        keyBytes = key
    }

    /// A new random key.
    public static func generateKey() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    public func seal(_ value: String, name: EnvvarName, of tool: ToolName) throws(KilnError) -> Data {
        do {
            guard let combined = try AES.GCM.seal(Data(value.utf8), using: key, authenticating: Self.context(name, tool)).combined else {
                throw KilnError(.internalError, "cannot seal envvar \(name)")
            }
            return combined
        } catch let error as KilnError {
            throw error
        } catch {
            throw KilnError(.internalError, "cannot seal envvar \(name): \(error)")
        }
    }

    public func open(_ sealed: Data, name: EnvvarName, of tool: ToolName) throws(KilnError) -> String {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            let plain = try AES.GCM.open(box, using: key, authenticating: Self.context(name, tool))
            guard let value = String(data: plain, encoding: .utf8) else { throw KilnError(.internalError, "envvar \(name) is not UTF-8") }
            return value
        } catch let error as KilnError {
            throw error
        } catch {
            throw KilnError(
                .internalError, "envvar \(name) of tool '\(tool)' does not open with this data directory's key",
                context: ["tool": tool.rawValue, "name": name.rawValue])
        }
    }

    private static func context(_ name: EnvvarName, _ tool: ToolName) -> Data {
        Data("kiln-envvar\u{0}\(tool.rawValue)\u{0}\(name.rawValue)".utf8)
    }
}
