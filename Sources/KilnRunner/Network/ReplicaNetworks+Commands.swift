import KilnCore

extension ReplicaNetworks {
    /// The block's nftables table, replaced whole in one transaction (every platform sharing the
    /// block writes the same one):
    /// - replicas do not reach one another directly (they do through the proxy, as anyone does);
    /// - from outside, only answers to connections the replicas opened reach them;
    /// - on this host, only the platform's own processes (root: the proxy, the health probe)
    ///   open connections to them; tools' other processes go through the proxy, as anyone does;
    /// - what replicas send out leaves with the host's address;
    /// - unless the host forwarded before Kiln (`hostForwards`), it forwards nothing else.
    static func ruleset(for subnet: ReplicaSubnet, hostForwards: Bool) -> String {
        let table = tableName(for: subnet)
        let others = hostForwards ? "" : "add rule ip \(table) forward iifname != \"kiln-*\" oifname != \"kiln-*\" drop\n"
        return """
            add table ip \(table)
            flush table ip \(table)
            add chain ip \(table) forward { type filter hook forward priority filter; policy accept; }
            add rule ip \(table) forward iifname "kiln-*" oifname "kiln-*" drop
            add rule ip \(table) forward oifname "kiln-*" ct state established,related accept
            add rule ip \(table) forward oifname "kiln-*" drop
            \(others)            add chain ip \(table) output { type filter hook output priority filter; policy accept; }
            add rule ip \(table) output oifname "kiln-*" ct state new meta skuid != 0 drop
            add chain ip \(table) postrouting { type nat hook postrouting priority srcnat; policy accept; }
            add rule ip \(table) postrouting ip saddr \(subnet) oifname != "kiln-*" masquerade

            """
    }

    /// `kiln_10_201_0_0_16`: one table per block.
    static func tableName(for subnet: ReplicaSubnet) -> String {
        "kiln_" + subnet.description.map { $0 == "." || $0 == "/" ? "_" : $0 }.map(String.init).joined()
    }

    /// On the host: the pair, the replica's end moved into its namespace as `eth0`, the host's
    /// end labelled, addressed and up.
    static func hostCommands(_ network: ReplicaNetwork, label: String) -> String {
        """
        link add \(network.name) type veth peer name eth0 netns \(network.name)
        link set dev \(network.name) alias "\(label)"
        addr add \(network.hostAddress)/31 dev \(network.name)
        link set dev \(network.name) up

        """
    }

    /// In the namespace: its loopback, the replica's end, and the host's end as the way out.
    static func namespaceCommands(_ network: ReplicaNetwork) -> String {
        """
        link set dev lo up
        addr add \(network.replicaAddress)/31 dev eth0
        link set dev eth0 up
        route add default via \(network.hostAddress)

        """
    }
}
