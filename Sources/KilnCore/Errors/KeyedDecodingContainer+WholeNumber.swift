/// Whole numbers in request bodies. Foundation's JSONDecoder reports a number its type cannot hold
/// (`1e308` or `1.5` for an Int) with an internal error that surfaces as "not valid JSON", with no
/// coding path; these name the field instead.
extension KeyedDecodingContainer {
    public func decodeWholeNumber<Number: FixedWidthInteger & Decodable>(_ type: Number.Type, forKey key: Key) throws -> Number {
        guard let number = try decodeWholeNumberIfPresent(type, forKey: key) else {
            throw KilnError.wholeNumber(at: codingPath + [key], type: type, missing: true)
        }
        return number
    }

    public func decodeWholeNumberIfPresent<Number: FixedWidthInteger & Decodable>(_ type: Number.Type, forKey key: Key) throws -> Number? {
        do {
            return try decodeIfPresent(type, forKey: key)
        } catch {
            throw KilnError.wholeNumber(at: codingPath + [key], type: type, missing: false)
        }
    }
}

extension KilnError {
    static func wholeNumber<Number: FixedWidthInteger>(at path: [any CodingKey], type: Number.Type, missing: Bool) -> KilnError {
        let field = path.fieldPath
        let what = missing ? "is missing" : "must be a whole number from \(Number.min) to \(Number.max)"
        return KilnError(.badRequest, "malformed request body: field '\(field)' \(what)", context: ["field": field])
    }
}
