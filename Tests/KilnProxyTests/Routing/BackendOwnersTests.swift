import KilnCore
import Synchronization
import Testing

@testable import KilnProxy

@Suite struct BackendOwnersTests {
    /// Knows a uid for some tools and records which tools it was asked about.
    final class Directory: BackendOwnerResolver {
        let uids: Mutex<[String: UInt32]>
        let asked = Mutex<[[String]]>([])

        init(_ uids: [String: UInt32]) { self.uids = Mutex(uids) }

        func owners(of tools: [String]) async -> [String: BackendOwner] {
            asked.withLock { $0.append(tools.sorted()) }
            return uids.withLock { uids in
                var owners: [String: BackendOwner] = [:]
                for tool in tools { if let uid = uids[tool] { owners[tool] = .uid(uid) } }
                return owners
            }
        }
    }

    func route(_ tool: String, _ port: Int) -> Route {
        Route(tool: tool, pattern: ".*", backend: HostPort(host: "127.0.0.1", port: port))
    }

    @Test func aReplacedToolIsAskedAgainAndForgottenWithItsLastRoute() async {
        let directory = Directory(["a": 1001])
        let owners = BackendOwners(resolver: directory)
        await owners.prepare(for: .replaced(tool: "a", routes: [route("a", 1)]))
        #expect(owners.owner(of: "a") == .uid(1001))
        // Deleted and created again with another uid: the next change says so.
        directory.uids.withLock { $0["a"] = 1002 }
        await owners.prepare(for: .replaced(tool: "a", routes: [route("a", 2)]))
        #expect(owners.owner(of: "a") == .uid(1002))
        await owners.prepare(for: .replaced(tool: "a", routes: []))
        #expect(directory.asked.withLock { $0 } == [["a"], ["a"]])
        directory.uids.withLock { $0["a"] = 1003 }
        await owners.prepare(for: .snapshot([route("a", 3)]))
        #expect(owners.owner(of: "a") == .uid(1003))
    }

    @Test func aSnapshotAsksOnlyForToolsNotKnownAndForgetsTheOthers() async {
        let directory = Directory(["a": 1001, "b": 1002])
        let owners = BackendOwners(resolver: directory)
        await owners.prepare(for: .snapshot([route("a", 1), route("b", 2), route("legacy", 3)]))
        #expect(owners.owner(of: "a") == .uid(1001))
        #expect(owners.owner(of: "b") == .uid(1002))
        // A key that is no tool the resolver knows is not checked.
        #expect(owners.owner(of: "legacy") == .anyone)
        await owners.prepare(for: .snapshot([route("a", 1), route("b", 2), route("c", 4)]))
        #expect(directory.asked.withLock { $0 } == [["a", "b", "legacy"], ["c"]])
        directory.uids.withLock { $0["b"] = 2002 }
        await owners.prepare(for: .snapshot([route("a", 1)]))
        await owners.prepare(for: .snapshot([route("a", 1), route("b", 2)]))
        #expect(owners.owner(of: "b") == .uid(2002))
    }

    @Test func withoutAResolverNothingIsChecked() async {
        let owners = BackendOwners(resolver: nil)
        await owners.prepare(for: .replaced(tool: "a", routes: [route("a", 1)]))
        #expect(owners.owner(of: "a") == .anyone)
    }
}
