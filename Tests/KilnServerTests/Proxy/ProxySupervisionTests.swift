import Testing

@testable import KilnServer

/// The proxy supervisor's decisions: adopt or start, restart at once, replace without a gap, stop.
@Suite struct ProxySupervisionTests {
    let first = ProxyReadyFile.Process(pid: 100, start: 1)
    let second = ProxyReadyFile.Process(pid: 200, start: 2)

    @Test func aProxyStillServingFromBeforeIsAdoptedNotStartedAgain() {
        var supervision = ProxySupervision()
        #expect(supervision.begin(adopting: first) == .watch(first))
        #expect(supervision.state == .serving(first))
    }

    @Test func withoutOneAProxyIsStartedAndWatchedOnceReady() {
        var supervision = ProxySupervision()
        #expect(supervision.begin(adopting: nil) == .start(after: .zero))
        #expect(supervision.started(first) == .watch(first))
        #expect(supervision.state == .serving(first))
    }

    @Test func aProxyThatDiesIsStartedAgainAtOnce() {
        var supervision = ProxySupervision()
        _ = supervision.begin(adopting: first)
        #expect(supervision.exited(second) == .none, "not the one serving")
        #expect(supervision.exited(first) == .start(after: .zero))
        #expect(supervision.state == .starting(attempt: 1))
    }

    @Test func failedStartsAreRetriedWithAGrowingDelay() {
        var supervision = ProxySupervision()
        _ = supervision.begin(adopting: nil)
        #expect(supervision.startFailed() == .start(after: .milliseconds(100)))
        #expect(supervision.startFailed() == .start(after: .milliseconds(200)))
        for _ in 0..<10 { _ = supervision.startFailed() }
        #expect(supervision.startFailed() == .start(after: .seconds(5)))
    }

    @Test func aReloadDrainsTheOldProxyOnlyOnceItsReplacementIsReady() {
        var supervision = ProxySupervision()
        _ = supervision.begin(adopting: first)
        #expect(supervision.reload() == .start(after: .zero))
        #expect(supervision.state == .replacing(old: first))
        #expect(supervision.reload() == .none, "one replacement at a time")
        #expect(supervision.started(second) == .watchAndDrain(new: second, old: first))
        #expect(supervision.exited(first) == .none, "the drained one's end is expected")
        #expect(supervision.state == .serving(second))
    }

    @Test func aReplacementThatFailsLeavesTheOldProxyServing() {
        var supervision = ProxySupervision()
        _ = supervision.begin(adopting: first)
        _ = supervision.reload()
        #expect(supervision.startFailed() == .none)
        #expect(supervision.state == .serving(first))
    }

    @Test func whenTheOldProxyDiesDuringAReplacementItsReplacementIsAwaited() {
        var supervision = ProxySupervision()
        _ = supervision.begin(adopting: first)
        _ = supervision.reload()
        #expect(supervision.exited(first) == .none)
        #expect(supervision.state == .starting(attempt: 1))
        #expect(supervision.started(second) == .watch(second))
    }

    @Test func stoppingStopsTheProxyServingAndAnyStartInFlight() {
        var serving = ProxySupervision()
        _ = serving.begin(adopting: first)
        #expect(serving.stop() == .stop(first))
        #expect(serving.state == .stopped)

        var starting = ProxySupervision()
        _ = starting.begin(adopting: nil)
        #expect(starting.stop() == .none)
        #expect(starting.started(first) == .stop(first), "started too late: stopped")
        #expect(starting.state == .stopped)

        var replacing = ProxySupervision()
        _ = replacing.begin(adopting: first)
        _ = replacing.reload()
        #expect(replacing.stop() == .stop(first))
        #expect(replacing.startFailed() == .finished)
        #expect(replacing.state == .stopped)

        var idle = ProxySupervision()
        #expect(idle.stop() == .finished)
    }
}
