import KilnCore

/// A route hash field's value: the pattern's backends separated by single spaces. One backend is
/// just `HOST:PORT`, as the seed wrote it, so older tooling's `HSET prefix:TOOL .* HOST:PORT`
/// still means what it did. Words are kept as written (older tooling may spell an address
/// differently) and compared as addresses.
struct RouteFieldValue: Sendable, Equatable {
    /// Each word as written, with its address when it is one; parsed once.
    private var words: [(text: String, address: HostPort?)]

    /// Any whitespace separates words when reading; nil (no field) has none.
    init(_ text: String?) {
        words = (text ?? "").split(whereSeparator: \.isWhitespace).map { word in
            (String(word), try? HostPort(parsing: String(word)))
        }
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.words.map(\.text) == rhs.words.map(\.text) }

    /// The backends named, in order, each once.
    var backends: [HostPort] {
        var backends: [HostPort] = []
        for case let (_, address?) in words where !backends.contains(address) { backends.append(address) }
        return backends
    }

    /// The words that are not `HOST:PORT`.
    var invalidWords: [String] { words.filter { $0.address == nil }.map(\.text) }

    /// The value to store; empty when no backend is left (the field is then deleted, whatever
    /// unusable words it had).
    var text: String { words.contains { $0.address != nil } ? words.map(\.text).joined(separator: " ") : "" }

    /// Appends `backend` unless the value already names it. Returns whether it was added.
    @discardableResult
    mutating func add(_ backend: HostPort) -> Bool {
        guard !words.contains(where: { $0.address == backend }) else { return false }
        words.append((backend.description, backend))
        return true
    }

    /// Takes every spelling of `backend` out. Returns whether it was there.
    @discardableResult
    mutating func remove(_ backend: HostPort) -> Bool {
        let before = words.count
        words.removeAll { $0.address == backend }
        return words.count < before
    }
}
