import Foundation
import KilnAPI
import KilnCore
import KilnFormats

/// `jsub [options...] program [arg...]` (and `jstart`, `qcronsub`): the program, run as given
/// in the tool's home (or `-cwd`, `-wd DIR`) by Debian's shell image, as a Kiln job named after
/// `-N` or the program. qsub's line (`Your job N ("NAME") has been submitted`) unless `-quiet`;
/// with `-sync y` it waits and exits with the job's code.
struct GridSubmission {
    let invocation: JsubOptions.Invocation
    let arguments: [String]

    /// How long jstart looks for its job's first run, to say its number.
    static let firstRunWait = Duration.seconds(10)

    func run() async -> Int32 {
        let name = invocation.rawValue
        if arguments.isEmpty || ["-help", "--help", "-h"].contains(arguments.first) {
            // jsub said its usage on standard error and failed when given nothing to run.
            guard arguments.isEmpty else {
                print(GridCommand.usage(invocation))
                return 0
            }
            GridCommand.complain(GridCommand.usage(invocation))
            return 1
        }
        let split: GridCommand.Split
        let options: JsubOptions
        let jobName: String
        do {
            split = try GridCommand.split(arguments, optionsEndAtProgram: true)
            options = try JsubOptions.parse(split.words, invokedAs: invocation)
            // A name the user gave must be one Kiln takes; one jsub made up is made one.
            jobName = try options.name.map(GridJobName.kilnName(given:)) ?? GridJobName.sanitized(options.gridName)
        } catch {
            GridCommand.complain("\(name): \(GridCommand.text(of: error))")
            return 1
        }
        let client: APIClient
        let tool: String
        do {
            client = try split.connection.client()
            tool = try await split.connection.resolveTool(using: client)
        } catch {
            GridCommand.complain("\(name): \(GridCommand.text(of: error))")
            return 1
        }
        let job = makeJob(options, name: jobName)
        let sink = GridErrorSink(options: options, tool: tool, directory: job.directory)
        let api = GridAPI(client: client, base: "/v1/tools/\(PathComponent.escape(tool))")
        do {
            let spec = try job.spec()
            let status = try await api.place(spec, once: options.once)
            let number = try await api.number(of: status, waiting: options.continuous ? Self.firstRunWait : .zero)
            if !options.quiet {
                print("Your job \(number.map(String.init) ?? "") (\"\(status.name)\") has been submitted")
            }
            guard options.waits, let number else { return 0 }
            let run = try await api.waitForEnd(of: number, job: status.name)
            let code = JobsCommand.Run.exitCode(of: run)
            if !options.quiet { print("Job \(number) exited with exit code \(code).") }
            return code
        } catch {
            sink.write(GridCommand.text(of: error))
            return 1
        }
    }

    /// The job as the options say, from where jsub was called.
    func makeJob(_ options: JsubOptions, name: String) -> GridJob {
        let here = FileManager.default.currentDirectoryPath
        var options = options
        let directory: String? =
            switch options.workingDirectory {
            case .home: nil
            case .current: here
            case .path(let path): path.hasPrefix("/") || path.hasPrefix("~") ? path : GridJob.resolve(path, in: here)
            }
        // -o or -e naming a folder: the grid wrote the job's file there.
        for (path, suffix) in [(\JsubOptions.output, ".out"), (\JsubOptions.error, ".err")] {
            if let given = options[keyPath: path], given.hasPrefix("/"), Self.isFolder(given) {
                options[keyPath: path] = given + "/" + options.gridName + suffix
            }
        }
        let words = [Self.resolve(program: options.program, from: here)] + options.arguments
        return GridJob(
            options: options, name: name, command: words.map(ShellWords.quote).joined(separator: " "), directory: directory,
            environment: ProcessInfo.processInfo.environment)
    }

    /// The program as jsub found it: on the caller's PATH (named by its folder when that is not
    /// one the job's PATH has too, as `~/bin`), else from where jsub was called (`bot.py`,
    /// `./run.sh`, `bin/bot`), so that the job finds it wherever it runs.
    static func resolve(program: String, from here: String) -> String {
        if program.hasPrefix("/") { return program }
        if !program.contains("/") {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            let folder = path.split(separator: ":").map(String.init).first {
                FileManager.default.isExecutableFile(atPath: $0 + "/" + program)
            }
            if let folder { return GridJob.systemPath.contains(folder) || !folder.hasPrefix("/") ? program : folder + "/" + program }
            guard FileManager.default.fileExists(atPath: here + "/" + program) else { return program }
        }
        return URL(fileURLWithPath: here).appendingPathComponent(program).standardizedFileURL.path
    }

    static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
