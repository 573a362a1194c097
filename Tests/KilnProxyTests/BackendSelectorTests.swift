import KilnCore
import NIOCore
import Testing

@testable import KilnProxy

@Suite struct BackendSelectorTests {
    let a = HostPort(host: "127.0.0.1", port: 1)
    let b = HostPort(host: "127.0.0.1", port: 2)
    let c = HostPort(host: "127.0.0.1", port: 3)
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    var group: BackendGroup { BackendGroup([a, b, c])! }

    func at(seconds: Int64) -> NIODeadline { start + .seconds(seconds) }

    @Test func tiesAreTakenInTurn() {
        var selector = BackendSelector()
        let picks = (0..<6).map { _ in selector.select(from: group, excluding: [], generation: 0, now: start) }
        #expect(picks == [a, b, c, a, b, c])
    }

    @Test func theLeastOutstandingBackendIsChosen() {
        var selector = BackendSelector()
        selector.started(a)
        selector.started(a)
        selector.started(b)
        #expect(selector.select(from: group, excluding: [], generation: 0, now: start) == c)
        selector.started(c)
        selector.started(c)
        #expect(selector.select(from: group, excluding: [], generation: 0, now: start) == b)
        selector.finished(a)
        selector.finished(a)
        #expect(selector.outstanding(on: a) == 0)
        #expect(selector.select(from: group, excluding: [], generation: 0, now: start) == a)
        // Finishing more than started is harmless.
        selector.finished(a)
        #expect(selector.outstanding(on: a) == 0)
    }

    @Test func tieBreaksAreKeptPerGroup() {
        var selector = BackendSelector()
        let pair = BackendGroup([a, b])!
        let other = BackendGroup([c, b])!
        var picks: [HostPort?] = []
        for _ in 0..<2 {
            picks.append(selector.select(from: pair, excluding: [], generation: 0, now: start))
            picks.append(selector.select(from: other, excluding: [], generation: 0, now: start))
        }
        #expect(picks == [a, c, b, b])
    }

    @Test func excludedBackendsAreNeverChosen() {
        var selector = BackendSelector()
        #expect(selector.select(from: group, excluding: [a, b], generation: 0, now: start) == c)
        #expect(selector.select(from: group, excluding: [a, b, c], generation: 0, now: start) == nil)
    }

    @Test func anEjectedBackendIsSkippedUntilTheCooldownPasses() {
        var selector = BackendSelector(cooldown: .seconds(10))
        selector.connectFailed(b, now: start)
        #expect(selector.isEjected(b, now: at(seconds: 9)))
        let during = (0..<4).map { _ in selector.select(from: group, excluding: [], generation: 0, now: at(seconds: 9)) }
        #expect(!during.contains(b))
        #expect(!selector.isEjected(b, now: at(seconds: 10)))
        let after = (0..<3).map { _ in selector.select(from: group, excluding: [], generation: 0, now: at(seconds: 10)) }
        #expect(after.contains(b))
    }

    @Test func aNewRouteTableBringsEjectedBackendsBack() {
        var selector = BackendSelector(cooldown: .seconds(10))
        _ = selector.select(from: group, excluding: [], generation: 4, now: start)
        selector.connectFailed(a, now: start)
        selector.connectFailed(b, now: start)
        #expect(selector.select(from: group, excluding: [], generation: 4, now: start) == c)
        #expect(selector.select(from: group, excluding: [], generation: 4, now: start) == c)
        let picks = (0..<3).map { _ in selector.select(from: group, excluding: [], generation: 5, now: start) }
        #expect(Set(picks.compactMap { $0 }) == [a, b, c])
    }

    @Test func whenEveryBackendIsEjectedTheOneEjectedLongestAgoIsTried() {
        var selector = BackendSelector(cooldown: .seconds(10))
        selector.connectFailed(b, now: at(seconds: 0))
        selector.connectFailed(c, now: at(seconds: 1))
        selector.connectFailed(a, now: at(seconds: 2))
        #expect(selector.select(from: group, excluding: [], generation: 0, now: at(seconds: 3)) == b)
        #expect(selector.select(from: group, excluding: [b], generation: 0, now: at(seconds: 3)) == c)
        // Failing again puts it at the back of the queue.
        selector.connectFailed(b, now: at(seconds: 3))
        #expect(selector.select(from: group, excluding: [], generation: 0, now: at(seconds: 4)) == c)
    }

    @Test func loadOutranksTheTieBreakButNotEjection() {
        var selector = BackendSelector()
        selector.started(a)
        selector.connectFailed(b, now: start)
        // b is idle but ejected, so the busier healthy backends are preferred.
        #expect(selector.select(from: group, excluding: [], generation: 0, now: start) == c)
        selector.started(c)
        selector.started(c)
        #expect(selector.select(from: group, excluding: [], generation: 0, now: start) == a)
    }
}
