import Foundation
import KilnAPI
import KilnCore
import Testing

struct EnvvarVaultTests {
    let vault: EnvvarVault
    let tool: ToolName
    let name: EnvvarName

    init() throws {
        vault = try EnvvarVault(key: EnvvarVault.generateKey())
        tool = try ToolName("bot")
        name = try EnvvarName("API_KEY")
    }

    @Test func aSealedValueOpensToItself() throws {
        let sealed = try vault.seal("s3cret ✓", name: name, of: tool)
        #expect(sealed.range(of: Data("s3cret".utf8)) == nil)
        #expect(try vault.open(sealed, name: name, of: tool) == "s3cret ✓")
        #expect(try vault.seal("s3cret ✓", name: name, of: tool) != sealed, "a fresh nonce each time")
    }

    @Test func aValueMovedToAnotherToolOrNameOrUnderAnotherKeyDoesNotOpen() throws {
        let sealed = try vault.seal("s3cret", name: name, of: tool)
        #expect(throws: KilnError.self) { try vault.open(sealed, name: name, of: try ToolName("other")) }
        #expect(throws: KilnError.self) { try vault.open(sealed, name: try EnvvarName("OTHER"), of: tool) }
        #expect(throws: KilnError.self) { try EnvvarVault(key: EnvvarVault.generateKey()).open(sealed, name: name, of: tool) }
        var flipped = sealed
        flipped[flipped.startIndex + 14] ^= 1
        #expect(throws: KilnError.self) { try vault.open(flipped, name: name, of: tool) }
        #expect(throws: KilnError.self) { try vault.open(Data([1, 2, 3]), name: name, of: tool) }
    }

    @Test func aKeyOfAnotherLengthIsRefused() {
        #expect(throws: KilnError.self) { try EnvvarVault(key: [UInt8](repeating: 7, count: 16)) }
    }
}
