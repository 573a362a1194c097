import KilnCore
import NIOCore
import Synchronization

/// One SMTP conversation on an open connection, strictly in turn: a command, then its reply
/// (no PIPELINING), each step bounded by the client's timeout.
struct SMTPSession {
    let client: SMTPClient
    let channel: any Channel
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var parser = SMTPReplyParser()
    /// Replies parsed but not yet asked for (a read can complete more than one).
    var replies: [SMTPReply] = []

    init(
        client: SMTPClient, channel: any Channel, inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.client = client
        self.channel = channel
        self.inbound = inbound
        self.outbound = outbound
    }

    mutating func deliver(_ message: MailMessage, data: [UInt8], messageID: String) async throws(KilnError)
        -> SMTPDelivery
    {
        do throws(KilnError) {
            let greeting = try await exchange(step: "the greeting")
            guard greeting.code == 220 else { throw refused("greeted", "the greeting", greeting) }

            var extensions: Set<String> = []
            let ehlo = "EHLO \(client.heloName)"
            let ehloReply = try await exchange(ehlo)
            if ehloReply.code == 250 {
                // The first line is the server's name; each further one is a keyword and its parameters.
                extensions = Set(ehloReply.lines.dropFirst().compactMap { $0.split(separator: " ").first?.uppercased() })
            } else if ehloReply.isPermanentFailure {
                // A server from before ESMTP.
                let helo = "HELO \(client.heloName)"
                let heloReply = try await exchange(helo)
                guard heloReply.code == 250 else { throw refused("answered \(helo)", helo, heloReply) }
            } else {
                throw refused("answered \(ehlo)", ehlo, ehloReply)
            }

            // RFC 6152: 8-bit data only where the server said it takes it, and then declared.
            let eightBit = extensions.contains("8BITMIME") && data.contains { $0 >= 0x80 }
            let mail = "MAIL FROM:<\(message.from)>" + (eightBit ? " BODY=8BITMIME" : "")
            let mailReply = try await exchange(mail)
            guard mailReply.isPositive else { throw refused("answered \(mail)", mail, mailReply) }

            var accepted: [String] = []
            var refusals: [SMTPDelivery.Refusal] = []
            for recipient in message.to {
                let rcpt = "RCPT TO:<\(recipient)>"
                let reply = try await exchange(rcpt)
                if reply.isPositive {
                    accepted.append(recipient)
                } else if reply.code == 421 {
                    // The server is closing the connection: no later command will be answered.
                    throw refused("answered \(rcpt)", rcpt, reply)
                } else {
                    refusals.append(SMTPDelivery.Refusal(address: recipient, reply: reply))
                }
            }
            guard !accepted.isEmpty else {
                let last = refusals.last!.reply
                throw client.failure(
                    "the SMTP server at \(client.server) refused every recipient: "
                        + refusals.map { "\($0.address) (\($0.reply))" }.joined(separator: ", "),
                    "RCPT TO:<\(refusals.last!.address)>", reply: last,
                    code: refusals.allSatisfy { $0.reply.isPermanentFailure } ? .mailRefused : .unavailable)
            }

            let dataReply = try await exchange("DATA")
            guard dataReply.code == 354 else { throw refused("answered DATA", "DATA", dataReply) }
            let endReply = try await exchange(step: "the message data", sending: data)
            guard endReply.isPositive else { throw refused("answered the message data", "the message data", endReply) }

            // The server has the message now: a failed QUIT cannot undo that.
            _ = try? await exchange("QUIT")
            return SMTPDelivery(messageID: messageID, accepted: accepted, refused: refusals)
        } catch {
            // Ends a session the server still listens to politely; the connection is closed anyway.
            if channel.isActive { _ = try? await outbound.write(ByteBuffer(string: "QUIT\r\n")) }
            throw error
        }
    }

    /// Sends `command` (with CRLF) and reads its reply, all within the client's timeout.
    private mutating func exchange(_ command: String) async throws(KilnError) -> SMTPReply {
        try await exchange(step: command, sending: Array("\(command)\r\n".utf8))
    }

    /// Sends `bytes` if any, then reads one reply; `step` (the command, or what stands for it) names
    /// it in errors.
    private mutating func exchange(step: String, sending bytes: [UInt8] = []) async throws(KilnError) -> SMTPReply {
        let deadline = Deadline(channel: channel, after: client.timeout)
        do {
            if !bytes.isEmpty { try await outbound.write(ByteBuffer(bytes: bytes)) }
            let reply = try await nextReply(step)
            // A deadline that fired as the reply came has closed the connection all the same:
            // the step timed out (else the next step would fail on a closed channel).
            guard deadline.disarm() else {
                throw client.failure("the SMTP server at \(client.server) did not answer \(step) within \(client.timeout)", step)
            }
            return reply
        } catch {
            deadline.disarm()
            if deadline.expired {
                throw client.failure(
                    "the SMTP server at \(client.server) did not answer \(step) within \(client.timeout)", step)
            }
            if let error = error as? KilnError { throw error }
            throw client.failure("the connection to the SMTP server at \(client.server) failed at \(step): \(error)", step)
        }
    }

    private mutating func nextReply(_ step: String) async throws -> SMTPReply {
        while replies.isEmpty {
            guard let buffer = try await inbound.next() else {
                let how = parser.hasPartialReply ? "in the middle of a reply" : "without a reply"
                throw client.failure("the SMTP server at \(client.server) closed the connection \(how) to \(step)", step)
            }
            do {
                replies += try parser.parse(buffer.readableBytesView)
            } catch {
                var error = error
                error.context.merge(client.context(["command": step])) { old, _ in old }
                throw error
            }
        }
        return replies.removeFirst()
    }

    /// A reply other than the one the step needs: 5xx is for good, anything else may pass.
    private func refused(_ what: String, _ step: String, _ reply: SMTPReply) -> KilnError {
        client.failure(
            "the SMTP server at \(client.server) \(what) with \(reply)", step, reply: reply,
            code: reply.isPermanentFailure ? .mailRefused : .unavailable)
    }
}

/// Closes the connection when a step overruns: a read or write waiting on it then ends, and
/// `expired` tells the step why. Disarming and firing exclude each other, so a step that got its
/// reply knows for sure whether the connection was closed under it.
private struct Deadline {
    private final class State: Sendable {
        /// 0 armed, 1 disarmed, 2 expired.
        let value = Atomic<Int>(0)
    }

    private let state = State()
    private let task: Scheduled<Void>

    init(channel: any Channel, after timeout: Duration) {
        let state = self.state
        task = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            guard state.value.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged else { return }
            channel.close(promise: nil)
        }
    }

    var expired: Bool { state.value.load(ordering: .acquiring) == 2 }

    /// Stops the deadline; false when it had already fired.
    @discardableResult
    func disarm() -> Bool {
        task.cancel()
        let (exchanged, current) = state.value.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing)
        return exchanged || current == 1
    }
}
