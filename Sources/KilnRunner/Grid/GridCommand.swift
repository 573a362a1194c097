import Foundation
import KilnCore

/// One run of a grid's program (`qsub`, `squeue`…): argv only, never a shell, so nothing in
/// it is interpreted; run as a tool's user when it acts for the tool (a submission, a cancel).
public struct GridCommand: Sendable, Hashable, CustomStringConvertible {
    /// The program's name, looked up in the configuration's PATH.
    public var program: String
    public var arguments: [String]
    /// Run as this user (a clean environment, no supplementary groups); nil: as the platform.
    public var user: UnixIdentity?

    public init(_ program: String, _ arguments: [String], as user: UnixIdentity? = nil) {
        self.program = program
        self.arguments = arguments
        self.user = user
    }

    /// For logs and errors: the program and its arguments (which never hold envvars' values).
    public var description: String { ([program] + arguments).joined(separator: " ") }

    /// How a grid's program ended and what it said.
    public struct Result: Sendable, Hashable {
        /// The exit code; 128 + the signal when a signal ended it.
        public var status: Int32
        public var output: String
        public var error: String

        public init(status: Int32, output: String = "", error: String = "") {
            self.status = status
            self.output = output
            self.error = error
        }

        public var succeeded: Bool { status == 0 }
        /// What it said, both streams, on one line, for a message.
        public var said: String {
            (error + " " + output).split(whereSeparator: \.isNewline).joined(separator: " ")
                .trimmingCharacters(in: .whitespaces)
        }
    }
}
