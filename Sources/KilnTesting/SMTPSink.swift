import Foundation

/// A real SMTP server for a test: aiosmtpd (from PyPI, installed by scripts/install-test-deps into
/// .build-tools/venv) on its own free loopback port, recording every message it accepts. Stop it
/// with `stop()` (a `defer` right after creating it); it also exits by itself when the test process
/// does, as it runs only as long as its stdin stays open.
///
/// For failure paths it refuses, with 550, every sender and recipient whose address starts with
/// `refusedPrefix`, and with `acceptsEHLO: false` answers EHLO with 502 as a pre-ESMTP server would.
public final class SMTPSink: @unchecked Sendable {
    /// One message as the server received it.
    public struct Message: Sendable, Decodable {
        /// The EHLO or HELO name the client gave.
        public var helo: String
        public var mailFrom: String
        public var mailOptions: [String]
        public var recipients: [String]
        /// The message bytes exactly as received after DATA, with the transparency dots removed
        /// (what the server delivers) and without the end-of-data line.
        public var content: Data

        public var text: String { String(decoding: content, as: UTF8.self) }

        enum CodingKeys: String, CodingKey {
            case helo
            case mailFrom = "mail_from"
            case mailOptions = "mail_options"
            case recipients = "rcpt_tos"
            case content
        }
    }

    public let host = "127.0.0.1"
    public let port: Int
    public let refusedPrefix: String
    private let directory: String
    private var messagesPath: String { directory + "/messages.jsonl" }
    private var logPath: String { directory + "/sink.log" }
    // Guards `process` and `stdin`: a test may stop the sink from another task than the one that made it.
    private let lock = NSLock()
    private var process: Process?
    private var stdin: Pipe?

    /// Starts the sink and returns once it accepts connections.
    public init(refusedPrefix: String = "refused", acceptsEHLO: Bool = true) throws {
        let python = try Self.python()
        self.refusedPrefix = refusedPrefix
        directory = try makeTemporaryDirectory(prefix: "ksmtp")
        let script = directory + "/sink.py"
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        // A free port can be taken by someone else before the sink binds it: try another.
        var lastError: (any Error)?
        for _ in 0..<3 {
            let port = freeLoopbackPort()
            do {
                let arguments = [
                    script, String(port), directory + "/messages.jsonl", directory + "/ready", refusedPrefix,
                    acceptsEHLO ? "ehlo" : "helo-only",
                ]
                let (process, stdin) = try Self.launch(
                    python, arguments, readyPath: directory + "/ready", logPath: directory + "/sink.log")
                self.port = port
                self.process = process
                self.stdin = stdin
                return
            } catch {
                lastError = error
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
        throw lastError ?? TestFailure("the SMTP sink did not start")
    }

    /// The python that has aiosmtpd: `KILN_TEST_PYTHON` (scripts/test sets it), else the venv of
    /// scripts/install-test-deps in this checkout (found from this source file's path, so it does
    /// not matter where the tests run from), else one in the current directory's checkout.
    public static func python() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["KILN_TEST_PYTHON"], !explicit.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: explicit) else {
                throw TestFailure("KILN_TEST_PYTHON=\(explicit) is not an executable; run scripts/install-test-deps")
            }
            return explicit
        }
        // Sources/KilnTesting/SMTPSink.swift -> the package root.
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let candidates = [packageRoot, FileManager.default.currentDirectoryPath].map { $0 + "/.build-tools/venv/bin/python3" }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestFailure(
                "no python with aiosmtpd: looked for \(candidates.joined(separator: " and ")); "
                    + "run scripts/install-test-deps or set KILN_TEST_PYTHON")
        }
        return found
    }

    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// Every message accepted so far, in order. The sink records a message before it answers the
    /// end of its data, so a send that succeeded is already here.
    public func messages() throws -> [Message] {
        guard let data = FileManager.default.contents(atPath: messagesPath) else { return [] }
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(Message.self, from: Data($0)) }
    }

    /// What the sink printed (aiosmtpd's errors among it).
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Closes its stdin, upon which it stops, and waits (SIGKILL if it has not exited within 5 s).
    public func stop() {
        guard let (process, stdin) = lock.withLock({ () -> (Process, Pipe?)? in self.process.map { ($0, self.stdin) } })
        else { return }
        try? stdin?.fileHandleForWriting.close()
        lock.withLock { self.stdin = nil }
        if !Self.waitForExit(process, timeout: 5) {
            Foundation.kill(process.processIdentifier, SIGKILL)
            _ = Self.waitForExit(process, timeout: 10)
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func launch(_ python: String, _ arguments: [String], readyPath: String, logPath: String) throws
        -> (Process, Pipe)
    {
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-u"] + arguments
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning, Date() < deadline {
            if FileManager.default.fileExists(atPath: readyPath) { return (process, stdin) }
            usleep(10_000)
        }
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        _ = waitForExit(process, timeout: 10)
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw TestFailure("the SMTP sink (\(python)) did not start; it printed:\n\(output.suffix(2000))")
    }

    /// Polls rather than `waitUntilExit()`, which spins a run loop and never gives up.
    private static func waitForExit(_ process: Process, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            guard Date() < deadline else { return false }
            usleep(5_000)
        }
        return true
    }

    /// The server, kept here rather than beside it as a file so that the target needs no resources.
    static let script = #"""
        import base64, json, os, signal, sys
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP

        port, messages_path, ready_path, refused_prefix, ehlo = sys.argv[1:6]
        # The test runner's threads block SIGTERM and a child inherits that mask.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

        def refused(address):
            return refused_prefix != "" and address.lower().startswith(refused_prefix.lower())

        class Handler:
            async def handle_MAIL(self, server, session, envelope, address, mail_options):
                if refused(address):
                    return "550 5.7.1 sender refused"
                envelope.mail_from = address
                envelope.mail_options.extend(mail_options)
                return "250 OK"

            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if refused(address):
                    return "550 5.1.1 no such user"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                record = {
                    "helo": session.host_name or "",
                    "mail_from": envelope.mail_from,
                    "mail_options": envelope.mail_options,
                    "rcpt_tos": envelope.rcpt_tos,
                    "content": base64.b64encode(envelope.original_content).decode("ascii"),
                }
                # Written before the 250: a client that got its 250 finds its message in the file.
                with open(messages_path, "a") as file:
                    file.write(json.dumps(record) + "\n")
                return "250 OK queued"

        class HeloOnly(SMTP):
            async def smtp_EHLO(self, hostname):
                await self.push("502 5.5.1 EHLO not implemented")

        class SinkController(Controller):
            def factory(self):
                return (SMTP if ehlo == "ehlo" else HeloOnly)(self.handler, **self.SMTP_kwargs)

        controller = SinkController(Handler(), hostname="127.0.0.1", port=int(port))
        controller.start()
        with open(ready_path + ".tmp", "w") as file:
            file.write(str(os.getpid()))
        os.rename(ready_path + ".tmp", ready_path)
        # Until the test closes stdin, or exits, which closes it too: no sink outlives its test.
        sys.stdin.buffer.read()
        controller.stop()
        """#
}
