import KilnAPI
import KilnCore
import Testing

/// The control plane's route feed: a snapshot for a new follower, only what was missed for one
/// that says where it left off, a snapshot again after a restart (a new epoch) or when too much
/// was missed; resyncs become changes of the tools that differ.
@Suite struct RouteFeedHubTests {
    let one = HostPort(host: "127.0.0.1", port: 1)
    let two = HostPort(host: "127.0.0.1", port: 2)

    func first(_ stream: AsyncStream<RouteFeedMessage>, count: Int) async -> [RouteFeedMessage] {
        var messages: [RouteFeedMessage] = []
        for await message in stream {
            messages.append(message)
            if messages.count == count { break }
        }
        return messages
    }

    @Test func aNewFollowerGetsASnapshotThenChanges() async {
        let hub = RouteFeedHub(epoch: "e1")
        hub.apply(.replaced(tool: "a", routes: [Route(tool: "a", pattern: ".*", backend: one)])) { _ in .uid(1001) }
        hub.setNotice("crashed", for: "a")
        let stream = hub.follow(since: nil)
        hub.apply(.replaced(tool: "b", routes: [Route(tool: "b", pattern: ".*", backend: two)])) { _ in .anyone }
        let messages = await first(stream, count: 2)
        #expect(
            messages[0]
                == .snapshot(
                    position: RouteFeedPosition(epoch: "e1", version: 2), routes: [Route(tool: "a", pattern: ".*", backend: one)],
                    owners: ["a": 1001], notices: ["a": "crashed"]))
        #expect(messages[1] == .replaced(version: 3, tool: "b", routes: [Route(tool: "b", pattern: ".*", backend: two)], owner: nil))
    }

    @Test func aFollowerThatSaysWhereItLeftOffGetsOnlyWhatItMissed() async {
        let hub = RouteFeedHub(epoch: "e1")
        for port in 1...3 {
            hub.apply(.replaced(tool: "a", routes: [Route(tool: "a", pattern: ".*", backend: HostPort(host: "127.0.0.1", port: port))])) { _ in .uid(7) }
        }
        let stream = hub.follow(since: RouteFeedPosition(epoch: "e1", version: 1))
        let messages = await first(stream, count: 2)
        #expect(messages.map(\.version) == [2, 3])
        // Nothing missed: nothing replayed (the next message is the next change).
        let caughtUp = hub.follow(since: RouteFeedPosition(epoch: "e1", version: 3))
        hub.setNotice("x", for: "a")
        #expect(await first(caughtUp, count: 1) == [.notice(version: 4, tool: "a", notice: "x")])
    }

    @Test func anotherEpochOrAPositionTooOldOrAheadGetsASnapshot() async {
        let hub = RouteFeedHub(epoch: "e2")
        for index in 0..<(RouteFeedHub.rememberedChanges + 5) { hub.setNotice("n\(index)", for: "a") }
        for since in [
            RouteFeedPosition(epoch: "e1", version: 3), RouteFeedPosition(epoch: "e2", version: 1),
            RouteFeedPosition(epoch: "e2", version: UInt64(RouteFeedHub.rememberedChanges + 99)),
        ] {
            let messages = await first(hub.follow(since: since), count: 1)
            guard case .snapshot(let position, _, _, _) = messages.first else {
                Issue.record("no snapshot for \(since): \(messages)")
                continue
            }
            #expect(position == hub.position)
        }
    }

    @Test func aResyncBecomesChangesOfTheToolsThatDiffer() async {
        let hub = RouteFeedHub(epoch: "e1")
        let a = Route(tool: "a", pattern: ".*", backend: one)
        let b = Route(tool: "b", pattern: ".*", backend: two)
        hub.apply(.snapshot([a, b])) { _ in .uid(5) }
        let stream = hub.follow(since: hub.position)
        let movedB = Route(tool: "b", pattern: ".*", backend: one)
        hub.apply(.snapshot([a, movedB])) { _ in .uid(5) }
        hub.apply(.snapshot([a])) { _ in .uid(5) }
        let messages = await first(stream, count: 2)
        #expect(messages == [.replaced(version: 3, tool: "b", routes: [movedB], owner: 5), .replaced(version: 4, tool: "b", routes: [], owner: 5)])
    }

    @Test func positionsAreParsedStrictly() {
        #expect(RouteFeedPosition(parsing: "abc-1:42") == RouteFeedPosition(epoch: "abc-1", version: 42))
        for bad in ["", ":1", "abc", "abc:", "abc:-1", "a b:1", "abc:1x", String(repeating: "a", count: 65) + ":1"] {
            #expect(RouteFeedPosition(parsing: Substring(bad)) == nil, "\(bad)")
        }
    }
}
