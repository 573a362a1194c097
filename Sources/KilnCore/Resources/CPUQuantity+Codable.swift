/// On the wire a CPU amount is `{"millicores": N}`; decoding checks the range as parsing does.
extension CPUQuantity: Codable {
    enum CodingKeys: String, CodingKey { case millicores }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let millicores = try container.decodeWholeNumber(Int.self, forKey: .millicores)
        guard Self.validMillicores.contains(millicores) || decoder.readsStoredRecords else {
            throw Self.outOfRange("\(millicores)m", field: decoder.codingPath.fieldPath.nonEmpty)
        }
        self.init(millicores: millicores)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(millicores, forKey: .millicores)
    }
}
