/// Requests are checked against today's ranges as they are decoded. The store's own records were
/// checked when they were written (perhaps by an earlier version, with wider ranges): they are read
/// as they are, so that no stored declaration strands its tool (it can still be shown, stopped and
/// deleted, and sums of it saturate).
extension CodingUserInfoKey {
    /// `true` in the store decoder's `userInfo`.
    public static let storedRecord = CodingUserInfoKey(rawValue: "kiln.storedRecord")
}

extension Decoder {
    public var readsStoredRecords: Bool {
        CodingUserInfoKey.storedRecord.flatMap { userInfo[$0] as? Bool } ?? false
    }
}
