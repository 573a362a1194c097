import KilnCore
import Testing

@testable import KilnRunner

/// `squeue -h -a -t all -o %i|%T|%r|%N|%P|%u|%j` as Slurm 22.05 wrote it here, with the odd
/// lines a shared grid has: arrays, holds, reasons, failed nodes, jobs killed at limits.
@Suite struct SlurmListingParserTests {
    static let recorded = """
        4|COMPLETED|None|vm|kiln|kiln-gridcheck|wrap
        8|FAILED|NonZeroExitCode|node1|kiln|kiln-gridcheck|wrap
        11|FAILED|BadConstraints||kiln|kiln-gridcheck|wrap
        9|PENDING|JobHeldUser||kiln|kiln-gridcheck|wrap
        7|RUNNING|None|node1|kiln|tools.bot|bot.j.12.1
        10_1|RUNNING|None|node1|kiln|kiln-gridcheck|wrap
        10_2|RUNNING|None|node2|kiln|kiln-gridcheck|wrap
        10_[3-9]|PENDING|Resources||kiln|kiln-gridcheck|wrap
        20|PENDING|Priority||kiln|someone|name|with|bars
        21|NODE_FAIL|NodeDown|node2|kiln|tools.bot|bot.cont.3.1
        22|OUT_OF_MEMORY|OutOfMemory|node1|kiln|tools.bot|bot.big.4.1
        23|TIMEOUT|TimeLimit|vm|kiln|tools.bot|bot.slow.5.1
        24|CANCELLED|None|vm|kiln|tools.bot|bot.stop.6.1
        25|COMPLETING|None|node1|kiln|tools.bot|bot.end.7.1
        26|CONFIGURING|None|node1|kiln|tools.bot|bot.boot.8.1
        27|SUSPENDED|None|node1|kiln|tools.bot|bot.sus.9.1
        28|PREEMPTED|None|node1|kiln|tools.bot|bot.pre.10.1
        29|BRAND_NEW_STATE|None|node1|kiln|tools.bot|bot.new.11.1
        half a line
        |RUNNING|None|node1|kiln|x|y
        """

    @Test func readsEveryJobWithItsStateHostAndReason() {
        let listing = SlurmListingParser.parse(Self.recorded)
        #expect(listing.entries.count == 18)
        #expect(listing["4"]?.state == .completed)
        #expect(listing["8"]?.state == .failed(reason: "NonZeroExitCode"))
        #expect(listing["11"]?.state == .failed(reason: "BadConstraints"))
        #expect(listing["11"]?.host == nil)
        #expect(listing["9"]?.state == .held(reason: "JobHeldUser"))
        let running = listing["7"]
        #expect(running?.state == .running)
        #expect(running?.host == "node1")
        #expect(running?.queue == "kiln")
        #expect(running?.owner == "tools.bot")
        #expect(running?.name == "bot.j.12.1")
        #expect(listing["20"]?.state == .pending(reason: "Priority"))
        #expect(listing["20"]?.name == "name|with|bars")
        #expect(listing["21"]?.state == .nodeFailed)
        #expect(listing["22"]?.state == .outOfMemory)
        #expect(listing["23"]?.state == .timedOut)
        #expect(listing["24"]?.state == .cancelled)
        #expect(listing["25"]?.state == .ending)
        #expect(listing["26"]?.state == .pending(reason: nil))
        #expect(listing["27"]?.state == .suspended)
        #expect(listing["28"]?.state == .failed(reason: "preempted"))
        #expect(listing["29"]?.state == .other("BRAND_NEW_STATE"))
    }

    /// An array lists a line per running task and one for its pending range: the job's id
    /// stands for the liveliest.
    @Test func anArrayIsKnownByItsJobIDAndItsTasks() {
        let listing = SlurmListingParser.parse(Self.recorded)
        #expect(listing["10"]?.state == .running)
        #expect(listing.entries.filter { $0.jobID == "10" }.compactMap(\.task) == ["1", "2", "[3-9]"])
    }

    @Test func nothingListedIsAnEmptyQueue() {
        #expect(SlurmListingParser.parse("").entries.isEmpty)
        #expect(SlurmListingParser.parse("\n\n").entries.isEmpty)
    }
}
