import KilnCore

extension KilnError.Code {
    /// The mail server refused for good (a 5xx reply): sending the same mail again will not help.
    /// A failure worth retrying (no connection, a timeout, a 4xx reply) is `.unavailable`.
    public static let mailRefused = KilnError.Code("mail_refused")
    /// A message that cannot be sent as given: a header that would break the message's structure.
    public static let invalidMail = KilnError.Code("invalid_mail")
}
