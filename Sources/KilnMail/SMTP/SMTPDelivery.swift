/// What became of a message the server accepted: its id, and the recipients it took and refused
/// (a refused recipient does not fail the send while another was accepted).
public struct SMTPDelivery: Sendable, Hashable {
    public struct Refusal: Sendable, Hashable {
        public var address: String
        public var reply: SMTPReply
    }

    /// The Message-ID header's value, without angle brackets.
    public var messageID: String
    public var accepted: [String]
    public var refused: [Refusal]
}
