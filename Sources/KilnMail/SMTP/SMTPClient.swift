import Foundation
import KilnCore
import Logging
import NIOCore
import NIOPosix

/// Sends mail through one SMTP server: a connection per message, EHLO (HELO when EHLO is refused),
/// MAIL FROM, one RCPT TO per recipient, DATA, QUIT.
///
/// Meant for a relay on the local host or network that takes mail from Kiln as it is: there is no
/// STARTTLS and no AUTH, so the conversation, addresses and all, travels in clear text. Do not point
/// it at a server across an untrusted network.
public struct SMTPClient: Sendable {
    public let host: String
    public let port: Int
    /// The name given in EHLO/HELO: this host's name as the server should know it.
    public let heloName: String
    /// For connecting, and for each command's reply: a server silent for this long fails the send.
    public let timeout: Duration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger

    public init(
        host: String, port: Int, heloName: String, timeout: Duration = .seconds(10),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "kiln.mail")
    ) {
        self.host = host
        self.port = port
        self.heloName = heloName
        self.timeout = timeout
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// Delivers `message` to the server. Succeeds once the server has taken responsibility for
    /// it (its 250 after the data) for at least one recipient; recipients it refused are in the
    /// result and logged. Fails with `.mailRefused` when the server refused for good (5xx),
    /// `.unavailable` for anything worth retrying (no connection, a timeout, a 4xx reply).
    @discardableResult
    public func send(_ message: MailMessage) async throws(KilnError) -> SMTPDelivery {
        // Checked here, as the init cannot throw: it goes on the wire as a command argument.
        guard MailAddress.isDomain(heloName.utf8) else {
            throw KilnError(
                .invalidAddress, "invalid EHLO name '\(heloName)': use a host name or an [address literal]",
                context: context(["helo_name": heloName]))
        }
        let messageID = MailMessage.makeMessageID(domain: heloName)
        let data = SMTPData.payload(message.rendered(date: Date(), messageID: messageID).utf8)
        let channel = try await connect()
        let delivery: SMTPDelivery
        do {
            delivery = try await channel.executeThenClose { inbound, outbound in
                var session = SMTPSession(
                    client: self, channel: channel.channel, inbound: inbound.makeAsyncIterator(), outbound: outbound)
                return try await session.deliver(message, data: data, messageID: messageID)
            }
        } catch let error as KilnError {
            throw error
        } catch {
            throw failure("the connection to the SMTP server at \(server) failed: \(error)", nil)
        }
        for refusal in delivery.refused {
            logger.warning(
                "the SMTP server refused a recipient",
                metadata: ["smtp_server": "\(server)", "recipient": "\(refusal.address)", "reply": "\(refusal.reply)"])
        }
        logger.debug(
            "mail sent", metadata: ["smtp_server": "\(server)", "message_id": "\(messageID)", "to": "\(delivery.accepted)"])
        return delivery
    }

    /// `host:port`, bracketing an IPv6 address.
    var server: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    func context(_ extra: [String: String] = [:]) -> [String: String] {
        ["host": host, "port": String(port)].merging(extra) { _, new in new }
    }

    func failure(_ message: String, _ command: String?, reply: SMTPReply? = nil, code: KilnError.Code = .unavailable)
        -> KilnError
    {
        var extra: [String: String] = [:]
        if let command { extra["command"] = command }
        if let reply { extra["reply"] = reply.description }
        return KilnError(code, message, context: context(extra))
    }

    private func connect() async throws(KilnError) -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        do {
            return try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(TimeAmount(timeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw failure("cannot connect to the SMTP server at \(server): \(Self.describeConnectError(error, timeout))", nil)
        }
    }

    /// NIO's errors name syscalls; say what happened instead.
    static func describeConnectError(_ error: any Error, _ timeout: Duration) -> String {
        if let error = error as? NIOConnectionError {
            if let dns = error.dnsAError ?? error.dnsAAAAError { return "cannot resolve the host name (\(dns))" }
            let causes = error.connectionErrors.map { describeConnectError($0.error, timeout) }
            return causes.isEmpty ? "\(error)" : Array(Set(causes)).sorted().joined(separator: "; ")
        }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED {
            return "connection refused (is a mail server listening there?)"
        }
        if case ChannelError.connectTimeout = error { return "no connection within \(timeout)" }
        return "\(error)"
    }
}
