/// On the wire a memory size is `{"bytes": N}`; decoding checks the range as parsing does, so a
/// request body cannot carry a size that `init(parsing:)` would refuse (`-1`, `1e18`).
extension MemorySize: Codable {
    enum CodingKeys: String, CodingKey { case bytes }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let bytes = try container.decodeWholeNumber(Int64.self, forKey: .bytes)
        guard Self.validBytes.contains(bytes) || decoder.readsStoredRecords else {
            throw Self.outOfRange(String(bytes), field: decoder.codingPath.fieldPath.nonEmpty)
        }
        self.init(bytes: bytes)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(bytes, forKey: .bytes)
    }
}
