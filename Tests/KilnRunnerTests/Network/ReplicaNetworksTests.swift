import Foundation
import KilnCore
import KilnFiles
import KilnTesting
import Logging
import Testing

@testable import KilnRunner

#if canImport(Glibc)
import Glibc
#endif

/// Replicas' networks of their own, made for real (root, iproute2, nftables): each replica
/// listens on port 8000 in its own, reached by the host at its own address; replicas do not
/// reach one another directly, but do reach out; a platform removes only what it abandoned.
@Suite(.enabled("needs root, iproute2 and nftables") { geteuid() == 0 && HostCommand.locate("nft") != nil && TestToolUser.identity != nil })
struct ReplicaNetworksTests {
    static func networks(instance: String = "test-\(UInt32.random(in: 0...UInt32.max))") async throws -> ReplicaNetworks {
        try await ReplicaNetworks.prepare(subnet: .standard, instance: instance, logger: Logger(label: "test"))
    }

    /// `script` run by python as the test tool in `network` (nil: the host's), until the task is
    /// cancelled; its output in `out-SLOT` (`out-host`).
    static func run(_ script: String, in network: ReplicaNetwork?, home: String) -> Task<KilnCore.ExitStatus, Never> {
        let files = ConfinedDirectory(path: home, owner: FileOwner(TestToolUser.identity))
        let name = network.map { String($0.slot) } ?? "host"
        var spec = ProcessSpec(
            executable: "/usr/bin/python3", arguments: ["-c", script], environment: ["PATH": "/usr/bin:/bin"], workingDirectory: home,
            user: TestToolUser.identity, standardOutput: .file(files, HomePath(platform: "out-\(name)")),
            standardError: .file(files, HomePath(platform: "err-\(name)")))
        spec.networkNamespace = network?.namespacePath
        return Task { await ProcessRunner.run(spec) }
    }

    static let server = """
        import http.server, os
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = os.uname().nodename.encode() + b" " + open("/proc/self/net/dev").read().encode()
                self.send_response(200); self.end_headers(); self.wfile.write(body)
        http.server.HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
        """

    static func connects(_ address: String, _ port: Int) -> String {
        """
        import socket, sys
        try:
            socket.create_connection(("\(address)", \(port)), timeout=3).close(); print("connected")
        except OSError as error:
            print("refused", error)
        """
    }

    @Test func twoReplicasListenOnPort8000EachInItsOwnAndDoNotReachEachOther() async throws {
        let networks = try await Self.networks()
        let tool = try ToolName("nettool")
        let first = try await networks.claim(for: tool, replica: 0)
        let second = try await networks.claim(for: tool, replica: 1)
        #expect(first.slot != second.slot)
        #expect(ReplicaNetworks.label(of: first.name) == "kiln \(networks.instance) nettool 0")
        let home = try TestToolUser.makeHome(prefix: "kiln-net")
        let servers = [Self.run(Self.server, in: first, home: home), Self.run(Self.server, in: second, home: home)]
        for network in [first, second] {
            #expect(await PortAllocator.waitUntilListening(network.backend, timeout: .seconds(10)), "\(network.backend)")
            let answer = try await onOwnThread { try curl(["http://\(network.backend)/"]) }
            #expect(answer.status == 200 && answer.body.contains("eth0"), "\(answer)")
        }
        // Not on the host's own port 8000, nor on its loopback.
        #expect(await !PortAllocator.waitUntilListening(HostPort(host: "127.0.0.1", port: 8000), timeout: .milliseconds(300)))

        // From the first: the second is out of reach; the host's end and the outside are not.
        let probe = Self.run(Self.connects(second.replicaAddress, 8000), in: first, home: home)
        #expect(await probe.value == .exited(code: 0))
        let said = try String(contentsOfFile: home + "/out-\(first.slot)", encoding: .utf8)
        #expect(said.contains("refused"), "\(said)")
        // A tool's process on the host (a job, say) does not reach a replica but through the proxy.
        let fromHost = Self.run(Self.connects(first.replicaAddress, 8000), in: nil, home: home)
        #expect(await fromHost.value == .exited(code: 0))
        let saidFromHost = try String(contentsOfFile: home + "/out-host", encoding: .utf8)
        #expect(saidFromHost.contains("refused"), "\(saidFromHost)")
        let outside = Self.run(Self.connects("pypi.org", 443), in: second, home: home)
        #expect(await outside.value == .exited(code: 0))
        let saidOutside = try String(contentsOfFile: home + "/out-\(second.slot)", encoding: .utf8)
        #expect(saidOutside.contains("connected"), "a replica reaches out, by name: \(saidOutside)")
        for server in servers {
            server.cancel()
            _ = await server.value
        }
        // Its own claims are never abandoned while it holds them.
        #expect(await networks.removeAbandoned(keeping: []) == [])
        await networks.release(first)
        await networks.release(second)
    }

    @Test func aReleasedNetworkIsGoneAndItsSlotFree() async throws {
        let networks = try await Self.networks()
        let network = try await networks.claim(for: try ToolName("nettool"), replica: 3)
        #expect(FileManager.default.fileExists(atPath: network.namespacePath))
        #expect(networks.adoptIfOwn(network.backend, tool: try ToolName("nettool"), replica: 3) == network)
        // Only by the replica it was made for.
        #expect(networks.adoptIfOwn(network.backend, tool: try ToolName("nettool"), replica: 4) == nil)
        #expect(networks.adoptIfOwn(network.backend, tool: try ToolName("othertool"), replica: 3) == nil)
        await networks.release(network)
        #expect(!FileManager.default.fileExists(atPath: network.namespacePath))
        #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/" + network.name))
        #expect(networks.adoptIfOwn(network.backend, tool: try ToolName("nettool"), replica: 3) == nil)
    }

    @Test func aPlatformRemovesOnlyTheNetworksItAbandoned() async throws {
        let instance = "test-\(UInt32.random(in: 0...UInt32.max))"
        let before = try await Self.networks(instance: instance)
        let tool = try ToolName("nettool")
        let kept = try await before.claim(for: tool, replica: 0)
        let abandoned = try await before.claim(for: tool, replica: 1)
        let another = try await Self.networks()
        let others = try await another.claim(for: tool, replica: 0)
        // Another platform's (or another instance's) networks are not its to adopt or remove.
        #expect(another.adoptIfOwn(kept.backend, tool: tool, replica: 0) == nil)
        // After a restart: the same instance, a new actor.
        let after = try await Self.networks(instance: instance)
        #expect(after.adoptIfOwn(kept.backend, tool: tool, replica: 0) == kept)
        let removed = await after.removeAbandoned(keeping: [kept.slot])
        #expect(removed == [abandoned.slot])
        #expect(!FileManager.default.fileExists(atPath: abandoned.namespacePath))
        #expect(FileManager.default.fileExists(atPath: kept.namespacePath) && FileManager.default.fileExists(atPath: others.namespacePath))
        await after.release(kept)
        await another.release(others)
    }

}

/// What the platform tells nftables and iproute2.
@Suite struct ReplicaNetworksCommandsTests {
    @Test func theRulesetKeepsReplicasApartAndLetsThemOut() {
        let rules = ReplicaNetworks.ruleset(for: .standard, hostForwards: true)
        #expect(rules.hasPrefix("add table ip kiln_10_201_0_0_16\nflush table ip kiln_10_201_0_0_16\n"))
        #expect(rules.contains(#"forward iifname "kiln-*" oifname "kiln-*" drop"#))
        #expect(rules.contains(#"forward oifname "kiln-*" ct state established,related accept"#))
        #expect(rules.contains(#"postrouting ip saddr 10.201.0.0/16 oifname != "kiln-*" masquerade"#))
        #expect(!rules.contains(#"iifname != "kiln-*" oifname != "kiln-*" drop"#), "a router's other traffic is its own business")
        #expect(rules.contains(#"output oifname "kiln-*" ct state new meta skuid != 0 drop"#))
        // A host that forwarded nothing before does not become a router for anything but replicas.
        let notRouter = ReplicaNetworks.ruleset(for: .standard, hostForwards: false)
        #expect(notRouter.contains(#"forward iifname != "kiln-*" oifname != "kiln-*" drop"#))
    }

    @Test func aPairIsMadeLabelledAndAddressedAsA31() throws {
        let network = try #require(ReplicaNetwork(slot: 5, in: .standard))
        let host = ReplicaNetworks.hostCommands(network, label: "kiln abc tool 2")
        #expect(host.contains("link add kiln-5 type veth peer name eth0 netns kiln-5\n"))
        #expect(host.contains("link set dev kiln-5 alias \"kiln abc tool 2\"\n"))
        #expect(host.contains("addr add 10.201.0.10/31 dev kiln-5\n"))
        let inside = ReplicaNetworks.namespaceCommands(network)
        #expect(inside.contains("addr add 10.201.0.11/31 dev eth0\n") && inside.contains("route add default via 10.201.0.10\n"))
    }
}
