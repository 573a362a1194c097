import Crypto
import Foundation

/// Bearer tokens: random, shown once, stored only as a SHA-256 digest.
public enum AccessToken {
    /// A new token: `kiln_` and 64 hex digits (256 random bits).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var text = "kiln_"
        for _ in 0..<4 {
            let word = generator.next() as UInt64
            let hex = String(word, radix: 16)
            text += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return text
    }

    public static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

}
