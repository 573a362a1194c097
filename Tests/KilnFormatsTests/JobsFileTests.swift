import KilnCore
import Testing

@testable import KilnFormats

@Suite struct JobsFileTests {
    @Test func readsWhatToolforgeUsersWrite() throws {
        let file = try JobsFile.parse("""
            # Jobs of the mytool tool
            ---
            - name: daily-report
              command: cd $HOME/report && ./venv/bin/python report.py > out.txt
              image: python3.11
              schedule: "02 07 * * *"  # every morning
              emails: onfailure
              cpu: '1.0'
              mem: 512Mi
            - image: tf-python39
              command: ./cleanup.sh
              name: cleanup
              schedule: '@daily'
              no-filelog: true
              retry: 2
              mount: none
            - name: web-bot
              command: bash -c "python3 bot.py --port 8000"
              image: python3.13
              continuous: true
              port: 8000
              replicas: 2
              cpu: 0.5
              mem: 1.0Gi
              health-check-script: ./healthz.sh
            - name: sync
              command: ./sync.sh >> ~/sync.log 2>&1
              image: tool-mytool/sync:latest
              schedule: 30 */2 * * *  # every two hours
              filelog-stdout: logs/sync.out
              filelog-stderr: logs/sync.err
              timeout: 3600
              emails: all
            """)
        #expect(file.warnings.isEmpty)
        #expect(file.jobs.count == 4)
        #expect(
            file.jobs.first
                == JobSpec(
                    name: "daily-report", command: "cd $HOME/report && ./venv/bin/python report.py > out.txt",
                    image: "python3.11", schedule: "02 07 * * *", emails: .onfailure, memory: MemorySize(bytes: 512 << 20),
                    cpu: CPUQuantity(millicores: 1000)))
        #expect(
            file.jobs.dropFirst().first
                == JobSpec(
                    name: "cleanup", command: "./cleanup.sh", image: "tf-python39", schedule: "@daily", retry: 2,
                    filelog: false, mount: .none))
        #expect(
            file.jobs.dropFirst(2).first
                == JobSpec(
                    name: "web-bot", command: #"bash -c "python3 bot.py --port 8000""#, image: "python3.13", continuous: true,
                    memory: MemorySize(bytes: 1 << 30), cpu: CPUQuantity(millicores: 500), port: 8000, replicas: 2,
                    healthCheckScript: "./healthz.sh"))
        #expect(
            file.jobs.last
                == JobSpec(
                    name: "sync", command: "./sync.sh >> ~/sync.log 2>&1", image: "tool-mytool/sync:latest",
                    schedule: "30 */2 * * *", emails: .all, filelogStdout: "logs/sync.out", filelogStderr: "logs/sync.err",
                    // A tool's own image: mount none unless the file says otherwise (Toolforge's default).
                    mount: .none, timeout: 3600))
        #expect(file.jobs.map(\.kind) == [.schedule, .schedule, .continuous, .schedule])
    }

    @Test func aOneOffJobMayWaitAndEmptyValuesAreLeftOut() throws {
        let file = try JobsFile.parse("""
            - name: once
              command: ./migrate.sh
              image: php8.2
              wait: true
              schedule:
              cpu: 1
              filelog: false
              emails: ~
            """)
        #expect(
            file.jobs == [
                JobSpec(name: "once", command: "./migrate.sh", image: "php8.2", cpu: CPUQuantity(millicores: 1000), filelog: false)
            ])
    }

    @Test func anchorsAndMergeKeysShareSettings() throws {
        let file = try JobsFile.parse("""
            - name: first
              <<: &common
                image: python3.11
                emails: onfailure
              command: ./a.sh
            - name: second
              command: ./b.sh
              <<: *common
              emails: none
            """)
        #expect(
            file.jobs == [
                JobSpec(name: "first", command: "./a.sh", image: "python3.11", emails: .onfailure),
                JobSpec(name: "second", command: "./b.sh", image: "python3.11", emails: .none),
            ])
    }

    @Test(arguments: ["", "\n", "# - name: old\n#   command: ./old.sh\n#   image: bookworm\n", "---\n", "--- # no jobs\n", "[]\n", "~\n"])
    func anEmptyOrCommentedOutFileHasNoJobs(text: String) throws {
        let file = try JobsFile.parse(text)
        #expect(file.jobs.isEmpty)
        #expect(file.warnings.isEmpty)
    }

    @Test func unknownKeysAreWarningsWithTheirLineAndErrorsWhenStrict() throws {
        let text = """
            - name: bot
              command: ./bot.sh
              image: python3.11
              continuous: true
              memory: 1Gi
              no_filelog: true
            """
        let file = try JobsFile.parse(text)
        #expect(file.jobs == [JobSpec(name: "bot", command: "./bot.sh", image: "python3.11", continuous: true)])
        #expect(
            file.warnings == [
                JobsFile.Warning(line: 5, job: "bot", field: "memory", message: "unknown key 'memory' is ignored (did you mean 'mem'?)"),
                JobsFile.Warning(
                    line: 6, job: "bot", field: "no_filelog", message: "unknown key 'no_filelog' is ignored (did you mean 'no-filelog'?)"),
            ])

        let error = #expect(throws: KilnError.self) { try JobsFile.parse(text, strict: true) }
        #expect(error?.context == ["file": "jobs.yaml", "line": "5", "job": "bot", "field": "memory"])
        #expect(error?.message == "jobs.yaml line 5, job 'bot', memory: unknown key 'memory' (did you mean 'mem'?)")
    }

    @Test func anErrorNamesTheFileTheLineTheJobAndTheField() {
        let error = #expect(throws: KilnError.self) {
            try JobsFile.parse(
                """
                - name: cleanup
                  command: ./cleanup.sh
                  image: bookworm
                - name: daily-report
                  command: ./report.sh
                  image: python3.11
                  retry: 9
                  schedule: '@daily'
                """, fileName: "tools/mytool/jobs.yaml")
        }
        #expect(error?.message == "tools/mytool/jobs.yaml line 7, job 'daily-report', retry: retry must be from 0 to 5, not 9")
        #expect(error?.context == ["file": "tools/mytool/jobs.yaml", "line": "7", "job": "daily-report", "field": "retry"])
    }

    /// A good job on lines 1 to 3, so that the bad one starts on line 4.
    static let goodJob = "- name: first\n  command: ./a.sh\n  image: bookworm\n"
    /// A second job on lines 4 to 6 (a one-off), so that a bad key added to it is on line 7.
    static let secondJob = goodJob + "- name: second\n  command: ./b.sh\n  image: bookworm\n"

    @Test(arguments: [
        // Values of the wrong shape or type.
        (goodJob + "- name: second\n  image: bookworm\n  command:\n    run: ./b.sh\n", 6, "command", "second"),
        (secondJob + "  retry: many\n", 7, "retry", "second"),
        (secondJob + "  continuous: maybe\n", 7, "continuous", "second"),
        (secondJob + "  continuous: yes\n", 7, "continuous", "second"),
        (secondJob + "  cpu: lots\n", 7, "cpu", "second"),
        (secondJob + "  mem: 5 bananas\n", 7, "mem", "second"),
        (secondJob + "  emails: sometimes\n", 7, "emails", "second"),
        (secondJob + "  mount: some\n", 7, "mount", "second"),
        (secondJob + "  timeout: 1h\n", 7, "timeout", "second"),
        (secondJob + "  schedule: ['@daily']\n", 7, "schedule", "second"),
        (goodJob + "- name: [second]\n  command: ./b.sh\n  image: bookworm\n", 4, "name", nil),
        // Missing keys: the job's line.
        (goodJob + "- name: second\n  image: bookworm\n  schedule: '@daily'\n", 4, "command", "second"),
        (goodJob + "- command: ./b.sh\n  image: bookworm\n", 4, "name", nil),
        (goodJob + "- command: ./b.sh\n  name: second\n", 4, "image", "second"),
        (goodJob + "- name: second\n  command: ./b.sh\n  image:\n", 4, "image", "second"),
        // The same name twice: the second one.
        (secondJob + "- name: first\n  command: ./c.sh\n  image: bookworm\n", 7, "name", "first"),
        // Combinations.
        (secondJob + "  schedule: '@daily'\n  wait: true\n", 8, "wait", "second"),
        (secondJob + "  continuous: true\n  wait: true\n", 8, "wait", "second"),
        (secondJob + "  continuous: true\n  schedule: '@daily'\n", 8, "schedule", "second"),
        (secondJob + "  schedule: 61 * * * *\n", 7, "schedule", "second"),
        (secondJob + "  retry: 9\n", 7, "retry", "second"),
        (secondJob + "  port: 8000\n", 7, "port", "second"),
        (secondJob + "  continuous: true\n  timeout: 600\n", 8, "timeout", "second"),
        (secondJob + "  filelog: false\n  filelog-stdout: logs/b.out\n", 7, "filelog", "second"),
        (secondJob + "  no-filelog: true\n  filelog: true\n", 7, "no-filelog", "second"),
        (goodJob + "- name: Second_Job\n  command: ./b.sh\n  image: bookworm\n", 4, "name", "Second_Job"),
        (goodJob + "- name: second\n  command: '  '\n  image: bookworm\n", 5, "command", "second"),
    ] as [(String, Int, String, String?)])
    func aBadJobNamesItsLineAndField(text: String, line: Int, field: String, job: String?) {
        let error = #expect(throws: KilnError.self) { try JobsFile.parse(text) }
        #expect(error?.context["file"] == "jobs.yaml")
        #expect(error?.context["line"] == String(line), "\(String(describing: error))")
        #expect(error?.context["field"] == field, "\(String(describing: error))")
        #expect(error?.context["job"] == job, "\(String(describing: error))")
        let prefix = "jobs.yaml line \(line), " + (job.map { "job '\($0)', " } ?? "") + "\(field): "
        #expect(error?.message.hasPrefix(prefix) == true, "\(String(describing: error))")
    }

    @Test func anEntryThatIsNotAJobNamesItsLine() {
        let error = #expect(throws: KilnError.self) { try JobsFile.parse(Self.goodJob + "- ./b.sh\n") }
        #expect(error?.context == ["file": "jobs.yaml", "line": "4"])
        #expect(error?.message == "jobs.yaml line 4: expected a job (keys such as 'name', 'command', 'image'), found a single value")
    }

    @Test(arguments: ["name: bot\ncommand: ./bot.sh\nimage: bookworm\n", "./bot.sh\n"])
    func aFileThatIsNotAListIsAnError(text: String) {
        let error = #expect(throws: KilnError.self) { try JobsFile.parse(text) }
        #expect(error?.context["line"] == "1")
        #expect(error?.message.hasPrefix("jobs.yaml line 1: expected a list of jobs") == true, "\(String(describing: error))")
    }

    @Test func malformedYAMLNamesTheLine() {
        let error = #expect(throws: KilnError.self) {
            try JobsFile.parse("- name: a\n  command: ./a.sh\n  image: bookworm\n  schedule: \"@daily\n")
        }
        #expect(error?.message.hasPrefix("jobs.yaml: not valid YAML") == true, "\(String(describing: error))")
        let twice = #expect(throws: KilnError.self) {
            try JobsFile.parse(Self.goodJob + "- name: second\n  command: ./b.sh\n  command: ./c.sh\n  image: bookworm\n")
        }
        #expect(twice?.message.contains("'command' given twice") == true, "\(String(describing: twice))")
        #expect(twice?.context["field"] == "command" && twice?.context["line"] != nil, "\(String(describing: twice))")
        #expect(twice.map { !$0.message.contains("./a.sh") } == true, "the message quotes the whole file")
        let indented = #expect(throws: KilnError.self) { try JobsFile.parse("- name: a\n  command: ./a.sh\n   image: bookworm\n") }
        #expect(indented?.context["line"] == "3", "\(String(describing: indented))")
    }

    static let trickyJobs = [
        JobSpec(
            name: "daily-report", command: "cd $HOME/report && ./venv/bin/python report.py > out.txt 2>&1", image: "python3.11",
            schedule: "02 07 * * *", emails: .onfailure, memory: MemorySize(bytes: 512 << 20), cpu: CPUQuantity(millicores: 1000),
            timeZone: "America/New_York"),
        JobSpec(
            name: "web-bot", command: #"bash -c "python3 bot.py --port ${PORT:-8000}""#, image: "tool-mytool/bot:latest",
            continuous: true, memory: MemorySize(bytes: 1_000_001), cpu: CPUQuantity(millicores: 250), port: 8000, replicas: 3,
            healthCheckScript: "./healthz.sh"),
        JobSpec(
            name: "quoted", command: "echo 'a: b' # not a comment", image: "3.10", schedule: "*/10 * * * *", retry: 5,
            emails: .all, cpu: CPUQuantity(millicores: 1500), filelog: false, mount: .none, timeout: 86400),
        JobSpec(
            name: "odd-strings", command: "true", image: "null", schedule: "@weekly", filelogStdout: "~/logs/odd.out",
            filelogStderr: " spaced "),
        JobSpec(name: "yes", command: "printf 'a\\tb\\n'\necho \"done\"\ttab", image: "- dash"),
        JobSpec(name: "numbers", command: "123", image: "0x1F", schedule: "0 0 1 1 *", emails: .onfinish, timeout: 1),
        JobSpec(name: "unicode", command: "echo héllo\u{7F}\u{2028}\u{FEFF} ✓ 𝄞", image: "@image", filelogStdout: "'quoted'"),
    ]

    @Test func dumpThenParseGivesTheSameJobs() throws {
        let text = JobsFile.dump(Self.trickyJobs)
        let file = try JobsFile.parse(text)
        #expect(file.jobs == Self.trickyJobs, "\(text)")
        #expect(file.warnings.isEmpty)
        #expect(try JobsFile.parse(JobsFile.dump([])).jobs.isEmpty)
    }

    @Test func dumpWritesKeysAlphabeticallyAndLeavesDefaultsOut() {
        let jobs = [
            JobSpec(
                name: "web-bot", command: "python3 bot.py", image: "python3.13", continuous: true, memory: MemorySize(bytes: 1 << 30),
                cpu: CPUQuantity(millicores: 500), port: 8000, replicas: 2),
            JobSpec(
                name: "daily", command: "cd ~/x && ./run.sh # nightly", image: "python3.11", schedule: "02 07 * * *", retry: 1,
                emails: .onfailure, filelog: false, mount: .none, timeout: 600),
            JobSpec(name: "once", command: "./once.sh", image: "bookworm"),
        ]
        #expect(
            JobsFile.dump(jobs) == """
                - command: python3 bot.py
                  continuous: true
                  cpu: '0.5'
                  image: python3.13
                  mem: 1Gi
                  name: web-bot
                  port: 8000
                  replicas: 2
                - command: 'cd ~/x && ./run.sh # nightly'
                  emails: onfailure
                  image: python3.11
                  mount: none
                  name: daily
                  no-filelog: true
                  retry: 1
                  schedule: 02 07 * * *
                  timeout: 600
                - command: ./once.sh
                  image: bookworm
                  name: once

                """)
        #expect(JobsFile.dump([]) == "[]\n")
        // Every job's keys, whatever they are, come out sorted.
        for job in Self.trickyJobs {
            let keys = JobsFile.dump([job]).split(separator: "\n").map { $0.dropFirst(2).prefix { $0 != ":" } }
            #expect(keys == keys.sorted(), "\(keys)")
        }
    }

    @Test func stringsAreQuotedOnlyWhenYAMLNeedsIt() {
        #expect(JobsFile.yamlScalar("python3.11") == "python3.11")
        #expect(JobsFile.yamlScalar("512Mi") == "512Mi")
        #expect(JobsFile.yamlScalar("./bot.sh --x=1") == "./bot.sh --x=1")
        #expect(JobsFile.yamlScalar("1") == "'1'")
        #expect(JobsFile.yamlScalar("true") == "'true'")
        #expect(JobsFile.yamlScalar("no") == "'no'")
        #expect(JobsFile.yamlScalar("~") == "'~'")
        #expect(JobsFile.yamlScalar("") == "''")
        #expect(JobsFile.yamlScalar("@daily") == "'@daily'")
        #expect(JobsFile.yamlScalar("*/5 * * * *") == "'*/5 * * * *'")
        #expect(JobsFile.yamlScalar("a: b") == "'a: b'")
        #expect(JobsFile.yamlScalar("it's") == "it's")
        #expect(JobsFile.yamlScalar("'it's'") == "'''it''s'''")
        #expect(JobsFile.yamlScalar("a\nb\t\\") == #""a\nb\t\\""#)
    }
}
