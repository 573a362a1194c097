import Foundation
import KilnCore
import KilnMail
import KilnMonitor

/// Mails a job's end to its tool's maintainers through the SMTP relay `kiln serve --smtp` names.
/// A maintainer written as an address is mailed there; a user name at `domain`.
struct SMTPJobMailer: JobMailer {
    let client: SMTPClient
    let from: String
    let domain: String

    func send(_ notice: JobNotice) async throws(KilnError) {
        let recipients = notice.maintainers.map { $0.contains("@") ? $0 : "\($0)@\(domain)" }
        guard !recipients.isEmpty else {
            throw KilnError(.badRequest, "the tool '\(notice.tool)' has no maintainers to mail", context: ["tool": notice.tool.rawValue])
        }
        let message = try MailMessage(
            from: from, to: recipients, subject: notice.subject, body: notice.body,
            headers: [.init("X-Kiln-Tool", notice.tool.rawValue), .init("X-Kiln-Job", notice.job)])
        try await client.send(message)
    }
}
