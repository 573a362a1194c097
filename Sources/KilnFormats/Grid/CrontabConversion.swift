import Foundation
import KilnCore

/// A grid-era crontab as a jobs.yaml (`kiln jobs import-crontab`): one scheduled job per line
/// calling `jsub` (a continuous job per `jstart`, or `jsub -continuous`), with jsub's options
/// turned into Toolforge's keys (`GridJob`). A line it cannot convert is a warning naming the
/// line and why, and the rest is converted.
///
/// - `MAILTO=` with an address: the jobs after it mail on failure (`emails: onfailure`), what
///   Toolforge's jobs framework offers for cron's mail; Kiln mails the tool's maintainers.
///   `MAILTO=""`: no mail.
/// - `PATH=`: where jsub looked for programs; its folders other than the system's go first on
///   the command's PATH. `CRON_TZ=`: the schedules' time zone.
/// - `cd DIR && jsub …`: jsub ran in DIR (relative programs, `-cwd`).
/// - Without `-once` the grid could run two runs of one job at a time; Kiln's scheduler never
///   starts a run while the previous one goes.
public struct CrontabConversion: Sendable {
    public struct Warning: Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var message: String

        public var description: String { "line \(line): \(message)" }
    }

    public var jobs: [JobSpec] = []
    public var warnings: [Warning] = []
    /// The crontab line each job came from, by job name.
    public var lines: [String: Int] = [:]

    /// What the lines so far set: cron's variables, and the names taken.
    struct State {
        var environment: [String: String] = [:]
        var emails: JobSpec.Emails = .none
        var timeZone: String?
        var pathPrefix: String?
        var names: Set<String> = []
        /// Continuous jobs by their grid name: jstart keeps one running, however often cron calls it.
        var continuous: [String: (name: String, line: Int)] = [:]
    }

    public init() {}

    public static func convert(_ text: String) throws(KilnError) -> CrontabConversion {
        var conversion = CrontabConversion()
        var state = State()
        for (number, line) in try Crontab.lines(text) {
            switch line {
            case .blank:
                continue
            case .invalid(let reason):
                conversion.warn(number, "not converted: \(reason)")
            case .variable(let name, let value):
                conversion.set(name, value, line: number, state: &state)
            case .job(let schedule, let command):
                do throws(KilnError) {
                    try conversion.add(schedule: schedule, command: command, line: number, state: &state)
                } catch {
                    conversion.warn(number, "not converted: \(error.message)")
                }
            }
        }
        return conversion
    }

    mutating func warn(_ line: Int, _ message: String) { warnings.append(Warning(line: line, message: message)) }

    mutating func set(_ name: String, _ value: String, line: Int, state: inout State) {
        state.environment[name] = value
        switch name {
        case "MAILTO":
            state.emails = value.isEmpty ? .none : .onfailure
            if !value.isEmpty {
                warn(line, "MAILTO=\(value.debugDescriptionPrefix): the jobs below mail the tool's maintainers when they fail (emails: onfailure), not this address")
            }
        case "PATH":
            let extra = value.split(separator: ":").map(String.init).filter { !GridJob.systemPath.contains($0) }
            state.pathPrefix = extra.isEmpty ? nil : extra.joined(separator: ":")
        case "CRON_TZ":
            if TimeZone(identifier: value) == nil {
                warn(line, "CRON_TZ=\(value.debugDescriptionPrefix) is not a time zone (an IANA name such as Europe/Berlin): schedules stay in UTC")
                state.timeZone = nil
            } else {
                state.timeZone = value == "UTC" ? nil : value
            }
        default:
            break  // the grid's jobs did not get cron's variables either; -v may use them
        }
    }
}
