/// Decoding errors name the field as users write it in the API's JSON.
extension Array where Element == any CodingKey {
    /// The path of a decoded value as users write it in JSON ("memory", "jobs.0.cpu"); empty at the root.
    public var fieldPath: String {
        map { key in key.intValue.map(String.init) ?? key.stringValue.snakeCased }.joined(separator: ".")
    }
}

extension String {
    /// `healthCheckPath` → `health_check_path`: the API's JSON is snake_case.
    var snakeCased: String {
        var result = ""
        for character in self {
            if character.isUppercase {
                if !result.isEmpty { result.append("_") }
                result += character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }

    var nonEmpty: String? { isEmpty ? nil : self }
}
