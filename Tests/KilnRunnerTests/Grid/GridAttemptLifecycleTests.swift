import KilnCore
import Testing

@testable import KilnRunner

/// The wait for a grid attempt's end, step by step, on instants the test gives.
@Suite struct GridAttemptLifecycleTests {
    let configuration = GridConfiguration(
        commandEnvironment: [:], pollInterval: .seconds(1), unreachablePollInterval: .seconds(10), accountingPatience: .seconds(20))
    let memory = MemorySize(bytes: 256 << 20)
    let start = ContinuousClock.now

    func lifecycle() -> GridAttemptLifecycle { GridAttemptLifecycle(memory: memory, configuration: configuration) }
    func entry(_ state: GridJobState) -> GridJobEntry { GridJobEntry(jobID: "7", state: state, host: "exec1") }

    @Test func theExitFileEndsItWhateverTheGridSays() {
        var attempt = lifecycle()
        #expect(attempt.observe(.listing(entry(.pending(reason: "Resources"))), now: start) == .look(after: .seconds(1)))
        #expect(attempt.observe(.listing(entry(.running)), now: start + .seconds(1)) == .look(after: .seconds(1)))
        #expect(attempt.state == .listed(entry(.running)))
        #expect(attempt.observe(.exitFile(.exited(code: 3)), now: start + .seconds(2)) == .finish(.exited(code: 3)))
        #expect(attempt.isEnded)
        // Ended stays ended.
        #expect(attempt.observe(.listing(entry(.running)), now: start + .seconds(3)) == .finish(.exited(code: 3)))
    }

    @Test func aJobGoneWithoutAnExitFileIsAskedOfAccounting() {
        var attempt = lifecycle()
        _ = attempt.observe(.listing(entry(.running)), now: start)
        #expect(attempt.observe(.listing(nil), now: start + .seconds(1)) == .askAccounting)
        #expect(attempt.state == .vanished(last: .running, until: start + .seconds(21)))
        #expect(attempt.observe(.accounting(nil), now: start + .seconds(2)) == .look(after: .seconds(1)))
        #expect(attempt.observe(.listing(nil), now: start + .seconds(3)) == .askAccounting)
        #expect(attempt.observe(.accounting(.signaled(signal: 9)), now: start + .seconds(3)) == .finish(.signaled(signal: 9)))
    }

    @Test func withoutAccountingTheGridsLastWordSaysOnceItsPatienceIsOut() {
        var attempt = lifecycle()
        #expect(attempt.observe(.listing(entry(.outOfMemory)), now: start) == .askAccounting)
        #expect(attempt.observe(.accounting(nil), now: start + .seconds(5)) == .look(after: .seconds(1)))
        #expect(attempt.observe(.listing(nil), now: start + .seconds(6)) == .askAccounting)
        #expect(attempt.state == .vanished(last: .outOfMemory, until: start + .seconds(20)))
        #expect(attempt.observe(.accounting(nil), now: start + .seconds(20)) == .finish(.outOfMemory(limit: memory)))
    }

    @Test func aJobNeverSeenAndNeverAccountedEndsUnknown() {
        var attempt = lifecycle()
        #expect(attempt.observe(.listing(nil), now: start) == .askAccounting)
        #expect(attempt.observe(.accounting(nil), now: start + .seconds(21)) == .finish(.unknown))
    }

    @Test func aLateExitFileStillWinsOverAccounting() {
        var attempt = lifecycle()
        _ = attempt.observe(.listing(nil), now: start)
        #expect(attempt.observe(.exitFile(.exited(code: 0)), now: start + .seconds(1)) == .finish(.exited(code: 0)))
    }

    @Test func aJobListedOnALostHostIsRemovedOnceThePatienceIsOut() {
        var attempt = lifecycle()
        _ = attempt.observe(.listing(entry(.running)), now: start)
        // The grid stops hearing its host: waited for, from the first look that says so.
        #expect(attempt.observe(.listingOnLostHost(entry(.running)), now: start + .seconds(25)) == .look(after: .seconds(1)))
        #expect(attempt.state == .hostLost(entry(.running), since: start + .seconds(25)))
        #expect(attempt.observe(.listingOnLostHost(entry(.running)), now: start + .seconds(84)) == .look(after: .seconds(1)))
        #expect(attempt.state == .hostLost(entry(.running), since: start + .seconds(25)))
        #expect(attempt.observe(.listingOnLostHost(entry(.running)), now: start + .seconds(85)) == .removeLost(host: "exec1"))
        #expect(
            attempt.observe(.lostWithHost("exec1"), now: start + .seconds(86))
                == .finish(.unhealthy(reason: "its execution host exec1 stopped answering; its grid job was removed")))
    }

    @Test func aHostHeardAgainStartsThePatienceAfresh() {
        var attempt = lifecycle()
        _ = attempt.observe(.listingOnLostHost(entry(.running)), now: start)
        #expect(attempt.observe(.listing(entry(.running)), now: start + .seconds(30)) == .look(after: .seconds(1)))
        #expect(attempt.state == .listed(entry(.running)))
        // Lost again: the patience counts from now.
        #expect(attempt.observe(.listingOnLostHost(entry(.running)), now: start + .seconds(40)) == .look(after: .seconds(1)))
        #expect(attempt.observe(.listingOnLostHost(entry(.running)), now: start + .seconds(90)) == .look(after: .seconds(1)))
        #expect(attempt.observe(.listingOnLostHost(entry(.running)), now: start + .seconds(100)) == .removeLost(host: "exec1"))
    }

    @Test func aLostHostsJobThatEndsMeanwhileEndsAsItSays() {
        var attempt = lifecycle()
        _ = attempt.observe(.listingOnLostHost(entry(.running)), now: start)
        // Gone from the listing: its accounting is asked, as for any vanished job.
        #expect(attempt.observe(.listingOnLostHost(nil), now: start + .seconds(70)) == .askAccounting)
        #expect(attempt.observe(.exitFile(.exited(code: 0)), now: start + .seconds(71)) == .finish(.exited(code: 0)))
    }

    @Test func lostHostsAreReadFromQselect() {
        let hosts = GridEngineDialect().parseLostHosts("all.q@exec1\nall.q@exec2\n\nbroken\nlong.q@node-7.example.org \n")
        #expect(hosts == ["exec1", "exec2", "node-7.example.org"])
    }

    @Test func aJobRequeuedByTheGridIsWaitedForAgain() {
        var attempt = lifecycle()
        _ = attempt.observe(.listing(entry(.running)), now: start)
        _ = attempt.observe(.listing(nil), now: start + .seconds(1))
        #expect(attempt.observe(.listing(entry(.pending(reason: nil))), now: start + .seconds(2)) == .look(after: .seconds(1)))
        #expect(attempt.state == .listed(entry(.pending(reason: nil))))
    }

    @Test func aJobInAnErrorStateIsRemovedAndCouldNotStart() {
        var attempt = lifecycle()
        #expect(attempt.observe(.listing(entry(.error(reason: nil))), now: start) == .removeBroken)
        #expect(attempt.state == .removing(reason: nil))
        #expect(attempt.observe(.removed(reason: "can't chdir to /gone"), now: start) == .finish(.couldNotStart(reason: "can't chdir to /gone")))
        var other = lifecycle()
        _ = other.observe(.listing(entry(.error(reason: "no shell"))), now: start)
        #expect(other.observe(.removed(reason: nil), now: start) == .finish(.couldNotStart(reason: "no shell")))
    }

    /// An unreachable grid ends nothing: it is looked at less often, up to the longest interval,
    /// and at the usual pace again once it answers.
    @Test func anUnreachableGridBacksOffAndEndsNothing() {
        var attempt = lifecycle()
        _ = attempt.observe(.listing(entry(.running)), now: start)
        let intervals = (0..<6).map { step in attempt.observe(.unreachable, now: start + .seconds(step)) }
        #expect(intervals == [2, 4, 8, 10, 10, 10].map { .look(after: .seconds($0)) })
        #expect(attempt.state == .listed(entry(.running)))
        #expect(attempt.observe(.listing(entry(.running)), now: start + .seconds(60)) == .look(after: .seconds(1)))
        #expect(attempt.observe(.unreachable, now: start + .seconds(61)) == .look(after: .seconds(2)))
    }
}
