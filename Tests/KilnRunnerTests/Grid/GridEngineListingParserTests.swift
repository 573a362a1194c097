import KilnCore
import Testing

@testable import KilnRunner

/// `qstat -xml -u '*'` as SGE 8.1.9 wrote it here: running jobs under `queue_info`, pending
/// ones under `job_info`, an error state, a held array, and a user's job name with `&` and `<`.
@Suite struct GridEngineListingParserTests {
    static let recorded = """
        <?xml version='1.0'?>
        <job_info  xmlns:xsd="http://arc.liv.ac.uk/repos/darcs/sge/source/dist/util/resources/schemas/qstat/qstat.xsd">
          <queue_info>
            <job_list state="running">
              <JB_job_number>10</JB_job_number>
              <JAT_prio>0.55500</JAT_prio>
              <JB_name>bot.j.12.1</JB_name>
              <JB_owner>tools.bot</JB_owner>
              <state>r</state>
              <JAT_start_time>2026-12-01T03:46:28</JAT_start_time>
              <queue_name>all.q@exec1</queue_name>
              <slots>1</slots>
            </job_list>
            <job_list state="running">
              <JB_job_number>13</JB_job_number>
              <JAT_prio>0.55500</JAT_prio>
              <JB_name>bot.cont.14.1</JB_name>
              <JB_owner>tools.bot</JB_owner>
              <state>dr</state>
              <JAT_start_time>2026-12-01T03:46:28</JAT_start_time>
              <queue_name>all.q@vm</queue_name>
              <slots>2</slots>
            </job_list>
          </queue_info>
          <job_info>
            <job_list state="pending">
              <JB_job_number>11</JB_job_number>
              <JAT_prio>0.50000</JAT_prio>
              <JB_name>we&amp;ird%lt;x&gt;</JB_name>
              <JB_owner>kiln-gridcheck</JB_owner>
              <state>Eqw</state>
              <JB_submission_time>2026-12-01T03:46:27</JB_submission_time>
              <queue_name></queue_name>
              <slots>1</slots>
            </job_list>
            <job_list state="pending">
              <JB_job_number>12</JB_job_number>
              <JAT_prio>0.00000</JAT_prio>
              <JB_name>arr</JB_name>
              <JB_owner>kiln-gridcheck</JB_owner>
              <state>hqw</state>
              <JB_submission_time>2026-12-01T03:46:27</JB_submission_time>
              <queue_name></queue_name>
              <slots>1</slots>
              <tasks>1-3:1</tasks>
            </job_list>
            <job_list state="pending">
              <JB_job_number>15</JB_job_number>
              <JAT_prio>0.00000</JAT_prio>
              <JB_name>other</JB_name>
              <JB_owner>someone</JB_owner>
              <state>qw</state>
              <JB_submission_time>2026-12-01T03:46:29</JB_submission_time>
              <queue_name></queue_name>
              <slots>1</slots>
            </job_list>
          </job_info>
        </job_info>
        """

    @Test func readsRunningAndPendingJobsWithTheirHostsAndStates() throws {
        let listing = try GridEngineListingParser.parse(Self.recorded)
        #expect(listing.entries.count == 5)
        let running = try #require(listing["10"])
        #expect(running.state == .running)
        #expect(running.host == "exec1")
        #expect(running.queue == "all.q")
        #expect(running.name == "bot.j.12.1")
        #expect(running.owner == "tools.bot")
        #expect(listing["13"]?.state == .ending)
        #expect(listing["13"]?.host == "vm")
        #expect(listing["11"]?.state == .error(reason: nil))
        #expect(listing["11"]?.name == "we&ird%lt;x>")
        #expect(listing["11"]?.host == nil)
        #expect(listing["12"]?.state == .held(reason: nil))
        #expect(listing["12"]?.task == "1-3:1")
        #expect(listing["15"]?.state == .pending(reason: nil))
        #expect(listing["99"] == nil)
    }

    @Test func anEmptyQueueListsNothing() throws {
        let empty = """
            <?xml version='1.0'?>
            <job_info  xmlns:xsd="http://arc.liv.ac.uk/repos/darcs/sge/source/dist/util/resources/schemas/qstat/qstat.xsd">
              <queue_info>
              </queue_info>
              <job_info>
              </job_info>
            </job_info>
            """
        #expect(try GridEngineListingParser.parse(empty).entries.isEmpty)
    }

    /// SGE has written users' `&` unescaped: the listing is still read, the name kept.
    @Test func aBareAmpersandInAJobNameDoesNotBlindTheListing() throws {
        let xml = Self.recorded.replacingOccurrences(of: "<JB_name>other</JB_name>", with: "<JB_name>a & b &c; &amp;</JB_name>")
        let listing = try GridEngineListingParser.parse(xml)
        #expect(listing["15"]?.name == "a & b &c; &")
        #expect(listing.entries.count == 5)
    }

    @Test func unreadableOutputIsAnErrorNotAnEmptyQueue() {
        for garbage in ["", "error: commlib error: got select error (Connection refused)", "<job_info><job_list>", "<<<>>>"] {
            #expect(throws: KilnError.self) { try GridEngineListingParser.parse(garbage) }
        }
    }

    @Test func aJobWithoutANumberOrStateIsLeftOut() throws {
        let xml = """
            <job_info><job_info>
            <job_list state="pending"><JB_job_number>x1</JB_job_number><state>qw</state></job_list>
            <job_list state="pending"><JB_job_number>7</JB_job_number></job_list>
            <job_list state="pending"><JB_job_number>8</JB_job_number><state>qw</state></job_list>
            </job_info></job_info>
            """
        let listing = try GridEngineListingParser.parse(xml)
        #expect(listing.entries.map(\.jobID) == ["8"])
    }

    @Test(arguments: [
        ("qw", GridJobState.pending(reason: nil)), ("hqw", .held(reason: nil)), ("hRwq", .held(reason: nil)),
        ("r", .running), ("t", .running), ("Rr", .running), ("Rq", .pending(reason: nil)), ("s", .suspended),
        ("S", .suspended), ("T", .suspended), ("dr", .ending), ("dt", .ending), ("Eqw", .error(reason: nil)),
        ("Ehqw", .error(reason: nil)), ("z", .other("z")), ("", .other("")),
    ])
    func stateLettersMapOntoKilnsStates(letters: String, state: GridJobState) {
        #expect(GridEngineListingParser.state(letters) == state)
    }

    @Test func errorReasonComesFromQstatJ() {
        let output = """
            job_number:                 11
            owner:                      kiln-gridcheck
            error reason          1:      12/01/2026 03:46:27 [593:32471]: error: can't chdir to /nonexistent: No such file or directory
            scheduling info:            Job is in error state
            """
        #expect(GridEngineDialect.errorReason(output) == "error: can't chdir to /nonexistent: No such file or directory")
        #expect(GridEngineDialect.errorReason("job_number: 3\n") == nil)
    }
}
