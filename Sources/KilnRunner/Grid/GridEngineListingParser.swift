import Foundation
import KilnCore

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reads `qstat -xml -u '*'`: every job's number, state letters, owner, name, queue instance
/// (`all.q@exec1`: the queue and the execution host) and array tasks, with a real XML parser.
/// Job names are users' words, and SGE has been seen to write a bare `&` of theirs unescaped:
/// such ampersands are escaped before parsing, so one user's job name cannot blind the listing.
enum GridEngineListingParser {
    static func parse(_ xml: String) throws(KilnError) -> GridQueueListing {
        let delegate = Delegate()
        let parser = XMLParser(data: Data(escapeBareAmpersands(xml).utf8))
        parser.shouldResolveExternalEntities = false
        parser.delegate = delegate
        guard parser.parse(), delegate.rootClosed else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "unreadable"
            throw KilnError(
                .unavailable, "qstat's XML could not be read: \(reason)",
                context: ["grid": "unreadable", "line": String(parser.lineNumber)])
        }
        return GridQueueListing(delegate.entries)
    }

    /// SGE's state letters as Kiln's state: `E` (error) over `d` (being deleted) over a
    /// suspension (`s`, `S`, `T`) over `h` (held) over running (`r`, `t`) over waiting (`q`, `w`).
    static func state(_ letters: String) -> GridJobState {
        func has(_ letter: Character) -> Bool { letters.contains(letter) }
        if has("E") { return .error(reason: nil) }
        if has("d") { return .ending }
        if has("s") || has("S") || has("T") { return .suspended }
        if has("h") { return .held(reason: nil) }
        if has("r") || has("t") { return .running }
        if has("q") || has("w") { return .pending(reason: nil) }
        return .other(letters)
    }

    /// `&` that does not begin an entity (`&amp;`, `&#38;`, `&#x26;`…) written as `&amp;`.
    static func escapeBareAmpersands(_ xml: String) -> String {
        guard xml.contains("&") else { return xml }
        var result = ""
        result.reserveCapacity(xml.utf8.count)
        var rest = Substring(xml)
        while let index = rest.firstIndex(of: "&") {
            result += rest[..<index]
            let after = rest[rest.index(after: index)...]
            result += beginsEntity(after) ? "&" : "&amp;"
            rest = after
        }
        result += rest
        return result
    }

    private static func beginsEntity(_ text: Substring) -> Bool {
        guard let semicolon = text.prefix(12).firstIndex(of: ";") else { return false }
        let name = text[..<semicolon]
        if ["amp", "lt", "gt", "quot", "apos"].contains(name) { return true }
        if name.hasPrefix("#x") { return name.count > 2 && name.dropFirst(2).allSatisfy(\.isHexDigit) }
        if name.hasPrefix("#") { return name.count > 1 && name.dropFirst().allSatisfy(\.isASCII) && name.dropFirst().allSatisfy(\.isNumber) }
        return false
    }

    /// Collects `job_list` elements, wherever they are (`queue_info` for running jobs,
    /// `job_info` for pending ones).
    private final class Delegate: NSObject, XMLParserDelegate {
        var entries: [GridJobEntry] = []
        /// Whether the whole document was there: `job_info` opened and closed as its root.
        private(set) var rootClosed = false
        private var depth = 0
        private var rootIsJobInfo = false
        private var fields: [String: String]?
        private var text = ""

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            if depth == 0 { rootIsJobInfo = elementName == "job_info" }
            depth += 1
            if elementName == "job_list" { fields = [:] }
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            // A field's text is short; a hostile one is cut rather than grown without bound.
            if text.utf8.count < 4096 { text += string }
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            depth -= 1
            if depth == 0 && rootIsJobInfo { rootClosed = true }
            guard fields != nil else { return }
            if elementName == "job_list" {
                if let entry = fields.flatMap(Self.entry) { entries.append(entry) }
                fields = nil
            } else {
                fields?[elementName] = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            text = ""
        }

        static func entry(_ fields: [String: String]) -> GridJobEntry? {
            guard let number = fields["JB_job_number"], !number.isEmpty, number.allSatisfy(\.isASCII), number.allSatisfy(\.isNumber),
                let letters = fields["state"]
            else { return nil }
            var queue: String?
            var host: String?
            if let instance = fields["queue_name"], !instance.isEmpty {
                let parts = instance.split(separator: "@", maxSplits: 1)
                queue = parts.first.map(String.init)
                host = parts.count > 1 ? String(parts[1]) : nil
            }
            return GridJobEntry(
                jobID: number, state: GridEngineListingParser.state(letters), host: host, queue: queue,
                name: fields["JB_name"], owner: fields["JB_owner"], task: fields["tasks"].flatMap { $0.isEmpty ? nil : $0 })
        }
    }
}
