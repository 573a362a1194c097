import KilnCore

/// Sends the mails jobs ask for (`emails`). The server's is SMTP (`kiln serve --smtp`); without
/// one, nothing is sent and the monitor logs what would have been.
public protocol JobMailer: Sendable {
    func send(_ notice: JobNotice) async throws(KilnError)
}
