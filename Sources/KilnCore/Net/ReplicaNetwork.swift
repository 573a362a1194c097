/// A replica's network of its own: a network namespace joined to the host by a veth pair, the
/// host's end and the replica's each with an address of one /31 (`ReplicaSubnet`). Inside, the
/// replica's server listens on port 8000, as Toolforge's containers do, whatever other replicas
/// listen on; the proxy reaches it at `backend`. Nothing else can listen at that address: only
/// the replica's processes are in the namespace.
public struct ReplicaNetwork: Sendable, Hashable {
    /// The port a replica's server listens on (its `PORT`).
    public static let port = 8000

    public let slot: Int
    public let hostAddress: String
    public let replicaAddress: String

    /// The slot's pair in `subnet`; nil for a slot outside it.
    public init?(slot: Int, in subnet: ReplicaSubnet) {
        guard let host = subnet.hostAddress(slot: slot), let replica = subnet.replicaAddress(slot: slot) else { return nil }
        self.slot = slot
        hostAddress = host
        replicaAddress = replica
    }

    /// The name of the namespace, and of the host's end of the pair (at most 15 bytes: `kiln-32767`).
    public var name: String { "kiln-\(slot)" }
    /// Where `ip netns` keeps the namespace, which a process enters by opening.
    public var namespacePath: String { "/run/netns/" + name }
    public var backend: HostPort { HostPort(host: replicaAddress, port: Self.port) }
}
