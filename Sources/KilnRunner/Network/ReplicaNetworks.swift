import Foundation
import KilnCore
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Gives replicas networks of their own (`ReplicaNetwork`), so each listens on port 8000 as on
/// Toolforge: a namespace and a veth pair per replica, made and removed with iproute2, and one
/// nftables table for the whole block that lets replicas out (masquerading them behind the
/// host's address), keeps them from reaching one another directly, and lets nothing from
/// outside open a connection to them (the proxy, on this host, reaches them without forwarding).
///
/// Several platforms on one host (tests, say) share the block: a slot is claimed by making its
/// namespace, which fails when it exists, and the host's end of the pair is labelled (its alias)
/// with the platform's instance tag, the tool and the replica, so each platform removes only
/// what it abandoned.
public actor ReplicaNetworks {
    public nonisolated let subnet: ReplicaSubnet
    /// Which platform made a pair: its label begins `kiln TAG `.
    nonisolated let instance: String
    let ip: String
    /// Where the next claim starts looking.
    private var nextSlot = 0
    /// Slots this actor is making or has made (until released): never abandoned, even while
    /// the claim that makes one is still under way.
    private var claimed = Set<Int>()

    init(subnet: ReplicaSubnet, instance: String, ip: String) {
        self.subnet = subnet
        self.instance = instance
        self.ip = ip
    }

    /// Readies the host (forwarding on, the block's nftables table) and returns the networks;
    /// throws, saying what is missing, where this host cannot give replicas networks of their own
    /// (not root, no iproute2 or nftables, a kernel without them).
    public static func prepare(subnet: ReplicaSubnet, instance: String, logger: Logger) async throws(KilnError) -> ReplicaNetworks {
        guard geteuid() == 0 else {
            throw unavailable("only a platform running as root can make network namespaces")
        }
        guard let ip = HostCommand.locate("ip") else { throw unavailable("iproute2's ip is not installed (Debian package iproute2)") }
        guard let nft = HostCommand.locate("nft") else { throw unavailable("nft is not installed (Debian package nftables)") }
        let hostForwards = try turnOnForwarding()
        try await HostCommand.run(
            nft, ["-f", "-"], input: Self.ruleset(for: subnet, hostForwards: hostForwards), what: "set up nftables for \(subnet)")
        if let resolver = loopbackResolver() {
            // Replicas have their own loopback: a resolver there is out of their reach.
            logger.warning(
                "this host's resolver is on its loopback interface, out of replicas' reach: their names will not resolve",
                metadata: ["nameserver": "\(resolver)"])
        }
        return ReplicaNetworks(subnet: subnet, instance: instance, ip: ip)
    }

    /// Where a platform notes that the host forwarded nothing before Kiln turned forwarding on:
    /// on tmpfs, gone at the next boot with the setting itself.
    static let forwardingWasOffMarker = "/run/kiln-forwarding-was-off"

    /// Turns on IPv4 forwarding (replicas' traffic is forwarded); returns whether the host
    /// forwarded before Kiln first did (on this boot). A host that did not must not become a
    /// router for anything else: the ruleset then drops what is neither to nor from a replica.
    static func turnOnForwarding() throws(KilnError) -> Bool {
        let path = "/proc/sys/net/ipv4/ip_forward"
        let before = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        if before == "0" {
            guard FileManager.default.createFile(atPath: forwardingWasOffMarker, contents: nil) else {
                throw unavailable("cannot write \(forwardingWasOffMarker)")
            }
            do {
                try "1\n".write(toFile: path, atomically: false, encoding: .utf8)
            } catch {
                throw unavailable("cannot turn on IPv4 forwarding (\(path)): \(error.localizedDescription)")
            }
        }
        return !FileManager.default.fileExists(atPath: forwardingWasOffMarker)
    }

    static func unavailable(_ why: String) -> KilnError {
        KilnError(.unavailable, "this host cannot give replicas networks of their own: \(why)", context: ["network": "namespaces"])
    }

    /// Makes a network for replica `replica` of `tool`: the first free slot from where the last
    /// claim stopped.
    public func claim(for tool: ToolName, replica: Int) async throws(KilnError) -> ReplicaNetwork {
        var lastError: KilnError?
        for offset in 0..<subnet.slotCount {
            let slot = (nextSlot + offset) % subnet.slotCount
            guard let network = ReplicaNetwork(slot: slot, in: subnet) else { continue }
            guard !claimed.contains(slot), !FileManager.default.fileExists(atPath: network.namespacePath),
                !FileManager.default.fileExists(atPath: "/sys/class/net/" + network.name)
            else { continue }
            claimed.insert(slot)
            do {
                // Fails when another claim (this platform's or another's) made it first.
                try await HostCommand.run(ip, ["netns", "add", network.name], what: "make the namespace \(network.name)")
            } catch {
                claimed.remove(slot)
                lastError = error
                continue
            }
            do {
                try await HostCommand.run(
                    ip, ["-batch", "-"], input: Self.hostCommands(network, label: label(tool: tool, replica: replica)),
                    what: "make \(network.name)'s pair")
                try await HostCommand.run(ip, ["-n", network.name, "-batch", "-"], input: Self.namespaceCommands(network), what: "address \(network.name)")
            } catch {
                await remove(network)
                claimed.remove(slot)
                throw error
            }
            nextSlot = (slot + 1) % subnet.slotCount
            return network
        }
        throw lastError ?? KilnError(
            .quotaExceeded, "every address of \(subnet) is taken: no network for another replica", context: ["subnet": subnet.description])
    }

    /// The network replica `replica` of `tool` had at `backend` before the platform restarted,
    /// when it is still there and that replica's of this platform (its label says so); nil otherwise.
    public nonisolated func adoptIfOwn(_ backend: HostPort, tool: ToolName, replica: Int) -> ReplicaNetwork? {
        guard backend.port == ReplicaNetwork.port, let slot = subnet.slot(ofReplicaAddress: backend.host),
            let network = ReplicaNetwork(slot: slot, in: subnet), FileManager.default.fileExists(atPath: network.namespacePath),
            Self.label(of: network.name) == label(tool: tool, replica: replica)
        else { return nil }
        return network
    }

    /// Removes a replica's network, once nothing of the replica runs. A process that somehow
    /// stayed inside keeps an empty namespace alive, but no longer the pair or its addresses.
    public func release(_ network: ReplicaNetwork) async {
        await remove(network)
        claimed.remove(network.slot)
    }

    /// Removes this platform's networks that no replica holds (left by a crash, or by replicas
    /// that did not survive it); returns their slots.
    @discardableResult
    public func removeAbandoned(keeping held: Set<Int>) async -> [Int] {
        let links = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []
        var removed: [Int] = []
        for name in links where name.hasPrefix("kiln-") {
            guard let slot = Int(name.dropFirst(5)), !held.contains(slot), !claimed.contains(slot), let network = ReplicaNetwork(slot: slot, in: subnet),
                network.name == name, Self.label(of: name)?.hasPrefix(labelPrefix) == true
            else { continue }
            await remove(network)
            removed.append(slot)
        }
        return removed.sorted()
    }

    private func remove(_ network: ReplicaNetwork) async {
        // Deleting the host's end deletes the pair.
        if FileManager.default.fileExists(atPath: "/sys/class/net/" + network.name) {
            try? await HostCommand.run(ip, ["link", "del", network.name], what: "remove \(network.name)'s pair")
        }
        if FileManager.default.fileExists(atPath: network.namespacePath) {
            try? await HostCommand.run(ip, ["netns", "del", network.name], what: "remove the namespace \(network.name)")
        }
    }

    nonisolated var labelPrefix: String { "kiln \(instance) " }

    nonisolated func label(tool: ToolName, replica: Int) -> String { labelPrefix + "\(tool.rawValue) \(replica)" }

    /// The alias of the host's link `name`, if it has one.
    static func label(of name: String) -> String? {
        guard let text = try? String(contentsOfFile: "/sys/class/net/\(name)/ifalias", encoding: .utf8) else { return nil }
        let label = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return label.isEmpty ? nil : label
    }

    /// The first nameserver of /etc/resolv.conf when it is a loopback address.
    static func loopbackResolver() -> String? {
        guard let text = try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0] == "nameserver" else { continue }
            let server = String(words[1])
            return server.hasPrefix("127.") || server == "::1" ? server : nil
        }
        return nil
    }
}
