import Foundation
import KilnFormats

#if canImport(Glibc)
import Glibc
#endif

/// Where jsub's own errors go once it knows the job (`there is a job named 'x' already active`):
/// as jsub did, appended to the job's error file, so that a crontab calling it stays quiet (cron
/// mails what a command prints), unless `-stderr`. Only the tool's own user writes there, as
/// itself; anyone else (the admin acting with `--tool`) reads them on standard error.
struct GridErrorSink {
    /// The error file; nil for standard error.
    let file: String?

    init(options: JsubOptions, tool: String, directory: String?) {
        file = options.errorsToStandardError ? nil : Self.errorFile(options, tool: tool, directory: directory)
    }

    /// The job's error file as the tool's user sees it, when this process is that user.
    static func errorFile(_ options: JsubOptions, tool: String, directory: String?) -> String? {
        guard let entry = getpwuid(geteuid()), String(cString: entry.pointee.pw_name) == "tools." + tool else { return nil }
        let home = String(cString: entry.pointee.pw_dir)
        let given = options.joinsErrors ? options.output : options.error
        guard let given else { return home + "/" + options.gridName + (options.joinsErrors ? ".out" : ".err") }
        if given == "~" || given.hasPrefix("~/") { return home + given.dropFirst() }
        if given.hasPrefix("/") { return given }
        let base = directory.map { $0 == "~" || $0.hasPrefix("~/") ? home + $0.dropFirst() : $0 } ?? home
        return GridJob.resolve(given, in: base)
    }

    /// `[Mon Jan  1 12:00:00 2024] message`, as jsub's `die` wrote it.
    func write(_ message: String) {
        let line = "[\(Self.now())] \(message)\n"
        guard let file else { return GridCommand.complain(String(line.dropLast())) }
        let descriptor = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return GridCommand.complain(String(line.dropLast())) }
        defer { close(descriptor) }
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
    }

    /// The local time as Perl's `localtime` prints it.
    static func now() -> String {
        var seconds = time(nil)
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%a %b %e %H:%M:%S %Y", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
