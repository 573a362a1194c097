import Foundation

/// How header values are written: RFC 5322 dates, folded address lists, and RFC 2047 encoded
/// words for text that is not plain ASCII.
enum MailHeaderText {
    /// RFC 5322's date-time in UTC: `Tue, 25 Nov 2025 01:03:00 +0000`. Computed rather than
    /// formatted with a locale, so nothing on the host can change it.
    static func date(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // 1970-01-01 was a Thursday.
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((days % 7) + 7) % 7]
        let (year, month, day) = civilDate(daysSince1970: days)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekday), \(two(day)) \(months[month - 1]) \(year) "
            + "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) +0000"
    }

    /// The proleptic Gregorian date of a day count (Howard Hinnant's days-to-civil algorithm).
    static func civilDate(daysSince1970 days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Addresses separated by commas, folded before a line would pass 78 characters.
    static func addressList(_ addresses: [String], headerName: String) -> String {
        var text = ""
        var lineLength = headerName.utf8.count + 2
        for (index, address) in addresses.enumerated() {
            if index > 0 {
                text += ","
                lineLength += 1
                if lineLength + 1 + address.utf8.count > 78 {
                    text += "\r\n"
                    lineLength = 0
                }
                text += " "
                lineLength += 1
            }
            text += address
            lineLength += address.utf8.count
        }
        return text
    }

    /// Unstructured text (already one line): as it is when it is ASCII, fits a line, and cannot be
    /// read as an encoded word; otherwise RFC 2047 `=?UTF-8?B?...?=` words, folded one per line.
    static func unstructured(_ text: String, headerName: String) -> String {
        let fitsOneLine = headerName.utf8.count + 2 + text.utf8.count <= 998
        if text.utf8.allSatisfy({ $0 < 0x80 }), fitsOneLine, !text.contains("=?") { return text }
        return encodedWords(text).joined(separator: "\r\n ")
    }

    /// Base64 encoded words of at most 75 characters each (RFC 2047's limit), every one holding
    /// whole characters: a word must decode to valid UTF-8 on its own.
    static func encodedWords(_ text: String) -> [String] {
        // "=?UTF-8?B?" + "?=" leave 63 characters, 15 base64 groups: 45 bytes.
        let maximumBytes = 45
        var words: [String] = []
        var chunk: [UInt8] = []
        func flush() {
            words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
            chunk = []
        }
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > maximumBytes { flush() }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { flush() }
        return words
    }
}
