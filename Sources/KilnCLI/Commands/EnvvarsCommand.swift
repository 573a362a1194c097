import ArgumentParser
import Foundation
import KilnAPI
import KilnCore
import KilnFormats

#if canImport(Glibc)
import Glibc
#endif

/// `kiln envvars create|list|show|delete|quota` (also `toolforge envvars`): the tool's secrets,
/// which every job run and webservice replica of the tool gets in its environment. Output as
/// Toolforge's envvars CLI prints it (plain `name  value` tables, values hidden in lists).
struct EnvvarsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "envvars", abstract: "Keep secrets and settings the tool's jobs and webservice get as environment variables.",
        subcommands: [Create.self, List.self, Show.self, Delete.self, Quota.self])

    /// What `list` prints for a value unless asked for it.
    static let hiddenValue = "****************"

    static func base(_ tool: String) -> String { "/v1/tools/\(PathComponent.escape(tool))/envvars" }

    /// The client, and the path of the tool's envvar `name` (or of them all).
    static func endpoint(_ connection: ConnectionOptions, name: String? = nil) async throws -> (APIClient, String) {
        let client = try connection.client()
        let tool = try await connection.resolveTool(using: client)
        return (client, base(tool) + (name.map { "/" + PathComponent.escape($0) } ?? ""))
    }

    static func table(_ envvars: [EnvvarService.Envvar], hidingValues: Bool = false) -> String {
        Tabulate.render(envvars.map { [$0.name, hidingValues ? hiddenValue : $0.value] }, headers: ["name", "value"], format: .plain)
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Create or change an envvar; without VALUE it is read from standard input.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "[A-Z_][A-Z0-9_]*, not TOOL_* or KILN_*.") var name: String
        @Argument(help: "The value (better from standard input: a command line is seen by others).") var value: String?

        func validate() throws {
            if let problem = EnvvarName.problem(with: name) { throw ValidationError("invalid envvar name '\(name)': \(problem)") }
        }

        func run() async throws {
            let value = try value ?? Self.readValue()
            let (client, path) = try await EnvvarsCommand.endpoint(connection)
            let response: EnvvarResponse = try await client.post(path, CreateEnvvarRequest(name: name, value: value))
            if output.json { return try JSONOutput.print(response) }
            print(EnvvarsCommand.table([response.envvar], hidingValues: true))
        }

        /// The value from standard input: typed at a terminal without echo (one line), else read
        /// whole, one final newline dropped (as `echo VALUE |` adds it).
        static func readValue() throws -> String {
            if isatty(STDIN_FILENO) == 1 {
                guard let typed = getpass("Enter the value of your envvar (Hit Ctrl+C to cancel): ") else {
                    throw CLIError.user("no value given")
                }
                return String(cString: typed)
            }
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard data.count <= EnvvarLimits.maximumValueBytes + 1 else {
                throw CLIError.user("the value is longer than \(EnvvarLimits.maximumValueBytes) bytes")
            }
            var text = String(decoding: data, as: UTF8.self)
            if text.hasSuffix("\n") { text.removeLast() }
            return text
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the tool's envvars (values hidden).")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Flag(help: "Print the values.") var showValues = false
        @Flag(help: "With --show-values, cut values to their first 50 characters.") var truncate = false

        func run() async throws {
            let (client, path) = try await EnvvarsCommand.endpoint(connection)
            let response: EnvvarListResponse = try await client.get(path)
            if output.json { return try JSONOutput.print(response) }
            let shown = response.envvars.map { envvar in
                var envvar = envvar
                if truncate && envvar.value.count >= 50 { envvar.value = String(envvar.value.prefix(50)) + "..." }
                return envvar
            }
            print(EnvvarsCommand.table(shown, hidingValues: !showValues))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one envvar and its value.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument var name: String
        @Flag(help: "Print the value alone, as it is (no newline added).") var raw = false

        func run() async throws {
            let (client, path) = try await EnvvarsCommand.endpoint(connection, name: name)
            let response: EnvvarResponse = try await client.get(path)
            if output.json { return try JSONOutput.print(response) }
            if raw { return FileHandle.standardOutput.write(Data(response.envvar.value.utf8)) }
            print(EnvvarsCommand.table([response.envvar]))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an envvar.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument var name: String
        @Flag(help: "Do not ask for confirmation.") var yesImSure = false

        func run() async throws {
            if !yesImSure {
                guard isatty(STDIN_FILENO) == 1 else { throw CLIError.user("not deleting \(name) without --yes-im-sure") }
                print("Are you sure you want to delete \(name)? (this can't be undone) [yN] ", terminator: "")
                fflush(nil)
                guard let answer = readLine(), ["y", "yes", "1", "true"].contains(answer.lowercased()) else {
                    print("Aborting at user's request")
                    throw ExitCode(1)
                }
            }
            let (client, path) = try await EnvvarsCommand.endpoint(connection, name: name)
            let response: EnvvarResponse = try await client.delete(path)
            if output.json { return try JSONOutput.print(response) }
            print("Deleted \(name)")
        }
    }

    struct Quota: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "quota", abstract: "How many envvars the tool may have, and has.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let client = try connection.client()
            let tool = try await connection.resolveTool(using: client)
            let response: EnvvarQuotaResponse = try await client.get("/v1/tools/\(PathComponent.escape(tool))/envvar-quota")
            if output.json { return try JSONOutput.print(response) }
            let quota = response.quota
            print(Tabulate.render([[String(quota.quota), String(quota.used), String(quota.quota - quota.used)]], headers: ["quota", "used", "available"], format: .plain))
        }
    }
}
