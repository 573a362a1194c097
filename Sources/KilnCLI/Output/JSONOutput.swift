import Foundation
import KilnAPI

enum JSONOutput {
    static func print<Value: Encodable>(_ value: Value) throws {
        let encoder = KilnJSON.encoder
        encoder.outputFormatting.insert(.prettyPrinted)
        Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
