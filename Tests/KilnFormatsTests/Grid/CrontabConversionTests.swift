import KilnCore
import Testing

@testable import KilnFormats

/// `kiln jobs import-crontab`'s conversion: a grid-era crontab to the jobs.yaml that `jobs load` takes.
@Suite struct CrontabConversionTests {
    static let path = #"PATH=/data/project/mytool/bin:"$PATH" "#
    static let day = JobSpec.maximumTimeout

    static func job(
        _ name: String, _ command: String, schedule: String? = nil, continuous: Bool = false, emails: JobSpec.Emails = .onfailure,
        memory: Int64 = 512 << 20, out: String? = nil, err: String? = nil, filelog: Bool = true, timeout: Int? = day
    ) -> JobSpec {
        JobSpec(
            name: name, command: path + command, image: "bookworm", schedule: schedule, continuous: continuous, emails: emails,
            memory: MemorySize(bytes: memory), filelog: filelog, filelogStdout: out, filelogStderr: err,
            timeout: continuous ? nil : timeout)
    }

    @Test func aGridEraCrontabBecomesScheduledAndContinuousJobs() throws {
        let conversion = try CrontabConversion.convert(CrontabFixture.text)
        let expected: [JobSpec] = [
            Self.job(
                "updater", "python3 bot.py --update", schedule: "*/10 * * * *", memory: 1 << 30, out: "~/logs/updater.out",
                err: "~/logs/updater.out"),
            Self.job("nightly", "./nightly.sh", schedule: "0 3 * * *", memory: 500 << 20, out: "~/nightly.out", err: "~/nightly.err"),
            Self.job("cleanup-job", "php cleanup.php", schedule: "@daily", out: "Cleanup_Job.out", err: "Cleanup_Job.err"),
            JobSpec(
                name: "reports", command: "cd ~/reports && " + Self.path + "./make-report.sh --all", image: "bookworm",
                schedule: "15 */2 * * 1-5", emails: .onfailure, memory: MemorySize(bytes: 2 << 30), timeout: 7200),
            Self.job("irc-bot", "python3 ~/irc/bot.py", continuous: true, memory: 256 << 20),
            Self.job("weekly", "./weekly.sh", schedule: "30 4 * * 0", filelog: false),
            Self.job("monthly", "./monthly.sh", schedule: "45 5 1 * *", emails: .none),
            Self.job("never", "./x.sh", schedule: "0 0 31 2 *", emails: .none),
            Self.job("backup", "./Backup.Tool.sh 'two words'", schedule: "0 1 * * *", emails: .none, out: "Backup.out", err: "Backup.err"),
            Self.job("updater-2", "./other.sh", schedule: "0 2 * * *", emails: .none, out: "updater.out", err: "updater.err"),
            Self.job("watcher", "./watch.sh", continuous: true, emails: .none),
        ]
        #expect(conversion.jobs.map(\.name) == expected.map(\.name))
        for (job, wanted) in zip(conversion.jobs, expected) {
            #expect(job == wanted, "\(job.name)")
        }
        #expect(conversion.lines["updater"] == 5 && conversion.lines["watcher"] == 24)

        let warnings = Dictionary(conversion.warnings.map { ($0.line, $0.message) }, uniquingKeysWith: { $0 + " / " + $1 })
        #expect(Set(warnings.keys) == [2, 7, 10, 12, 13, 16, 17, 19, 20, 21, 23], "\(conversion.warnings)")
        let reasons: [Int: String] = [
            2: "emails: onfailure", 7: "is named 'cleanup-job'", 10: "'irc-bot' of line 9", 12: "is not jsub or jstart",
            13: "@reboot", 16: "unknown option -m", 17: "'%'", 19: "'|'", 20: "61", 21: "is named 'backup'",
            23: "neither a job",
        ]
        for (line, reason) in reasons {
            #expect(warnings[line]?.contains(reason) == true, "line \(line): \(warnings[line] ?? "no warning")")
        }
        for line in [10, 12, 13, 16, 17, 19, 20, 23] {
            #expect(warnings[line]?.hasPrefix("not converted: ") == true, "line \(line): \(warnings[line] ?? "")")
        }
    }

    @Test func theJobsYamlItWritesReadsBackAsTheSameJobs() throws {
        let conversion = try CrontabConversion.convert(CrontabFixture.text)
        let yaml = JobsFile.dump(conversion.jobs)
        let parsed = try JobsFile.parse(yaml, strict: true)
        #expect(parsed.jobs == conversion.jobs)
        #expect(parsed.warnings.isEmpty)
        #expect(yaml.contains("schedule: '@daily'") && yaml.contains("continuous: true") && yaml.contains("emails: onfailure"), "\(yaml)")
    }

    @Test func cronsVariablesAndFoldersAreHonoured() throws {
        let conversion = try CrontabConversion.convert("""
            CRON_TZ=Europe/Berlin
            PATH=/usr/bin:/bin
            0 7 * * * cd /srv/bot; jsub -N a -cwd ./run.sh
            0 8 * * * cd bot && jsub -N b ./run.sh
            0 9 * * * jsub -N c -wd sub -o x.log -v LANG,X=1 echo "$LANG"
            LANG=C.UTF-8
            0 10 * * * jsub -N d -v LANG echo hi
            CRON_TZ=Nowhere/Else
            0 11 * * * jsub -N e -o $SOMEWHERE/x.log echo
            0 12 * * * jsub -N f -sync y -stderr -quiet echo "a  b"   >>/dev/null
            """)
        let jobs = Dictionary(conversion.jobs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(jobs["a"]?.command == "cd /srv/bot && ./run.sh")
        #expect(jobs["a"]?.timeZone == "Europe/Berlin")
        // jsub found ./run.sh in cron's folder; the job runs in the home.
        #expect(jobs["b"]?.command == "~/bot/run.sh")
        #expect(jobs["c"] == nil)  // -v LANG had no value yet
        #expect(jobs["d"]?.command == "LANG=C.UTF-8 echo hi")
        #expect(jobs["e"] == nil)
        #expect(jobs["f"]?.command == #"echo "a  b""#)
        #expect(jobs["f"]?.timeZone == nil)
        let lines = Set(conversion.warnings.map(\.line))
        #expect(lines == [5, 8, 9], "\(conversion.warnings)")
    }

    @Test func hostileCrontabsGiveWarningsNeverATrap() throws {
        let hostile = [
            "* * * * * jsub '", "* * * * * jsub \"", "* * * * * jsub $(", "* * * * *", "@daily", "* * * *  jsub x", "=", " = x",
            "* * * * * jsub -mem 99999999999999999999g x", "* * * * * jsub -N \u{0} x", "\u{0}\u{1}\u{2}", "* * * * * \\",
            "* * * * * jsub -N " + String(repeating: "A", count: 10_000) + " x", "@reboot jstart", "* * * * * cd && jsub x",
            "* * * * * jsub x >", "* * * * * jsub x 2>&", "* * * * * jsub x > /tmp/log", "99999999999999999999 * * * * jsub x",
            "* * * * * jsub -l h_rt=99999999999999999999 x", "*/0 * * * * jsub x", "* * * * * jsub -v =x x", "MAILTO",
        ]
        let conversion = try CrontabConversion.convert(hostile.joined(separator: "\n"))
        #expect(conversion.jobs.isEmpty, "\(conversion.jobs)")
        #expect(conversion.warnings.count == hostile.count, "\(conversion.warnings)")
        #expect(conversion.warnings.allSatisfy { $0.message.count < 2000 })
        #expect(throws: KilnError.self) { try CrontabConversion.convert(String(repeating: "#\n", count: Crontab.maximumLength)) }
    }
}
