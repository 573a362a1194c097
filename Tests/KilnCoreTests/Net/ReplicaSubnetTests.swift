import KilnCore
import Testing

@Suite struct ReplicaSubnetTests {
    @Test func theStandardBlockGivesEachSlotAPairOfAddresses() throws {
        let subnet = ReplicaSubnet.standard
        #expect(subnet.description == "10.201.0.0/16")
        #expect(subnet.slotCount == 32_768)
        #expect(subnet.hostAddress(slot: 0) == "10.201.0.0" && subnet.replicaAddress(slot: 0) == "10.201.0.1")
        #expect(subnet.hostAddress(slot: 200) == "10.201.1.144" && subnet.replicaAddress(slot: 200) == "10.201.1.145")
        #expect(subnet.replicaAddress(slot: 32_767) == "10.201.255.255")
        #expect(subnet.replicaAddress(slot: 32_768) == nil && subnet.hostAddress(slot: -1) == nil)
    }

    @Test func aReplicasAddressNamesItsSlotAndNoOtherAddressDoes() throws {
        let subnet = try ReplicaSubnet(parsing: "192.168.40.0/24")
        #expect(subnet.slotCount == 128)
        for slot in [0, 1, 77, 127] {
            #expect(subnet.slot(ofReplicaAddress: try #require(subnet.replicaAddress(slot: slot))) == slot)
            #expect(subnet.slot(ofReplicaAddress: try #require(subnet.hostAddress(slot: slot))) == nil, "the host's end")
        }
        for other in ["192.168.41.1", "10.201.0.1", "192.168.40.01", "192.168.40", "", "x", "192.168.40.1.1", "192.168.40.256"] {
            #expect(subnet.slot(ofReplicaAddress: other) == nil, "\(other)")
        }
    }

    @Test func aNetworkIsNamedByItsSlotWithinALinksFifteenBytes() throws {
        let network = try #require(ReplicaNetwork(slot: 32_767, in: .standard))
        #expect(network.name == "kiln-32767" && network.name.utf8.count <= 15)
        #expect(network.namespacePath == "/run/netns/kiln-32767")
        #expect(network.backend == HostPort(host: "10.201.255.255", port: 8000))
        #expect(ReplicaNetwork(slot: 32_768, in: .standard) == nil)
    }

    @Test(arguments: [
        ("10.201.0.0/16", true), ("172.16.8.0/22", true), ("100.64.0.0/10", false), ("100.64.0.0/16", true),
        ("192.168.1.0/31", true), ("10.0.0.0/15", false), ("10.0.0.0/32", false), ("10.201.0.1/16", false),
        ("8.8.0.0/16", false), ("172.32.0.0/16", false), ("127.0.0.0/16", false), ("10.201.0.0", false),
        ("10.201.0.0/", false), ("10.201.0.0/016", false), ("10.201.0.0/+16", false), ("10.201.00.0/16", false),
        ("10.201.0.0/16/16", false), ("::1/64", false), ("", false), ("10.201.0.0/99999999999999999999", false),
    ])
    func onlyAPrivateAlignedBlockOfTheRightSizeIsTaken(text: String, accepted: Bool) {
        do {
            let subnet = try ReplicaSubnet(parsing: text)
            #expect(accepted, "\(text) was taken")
            #expect(subnet.description == text)
        } catch {
            #expect(!accepted, "\(text): \(error.message)")
            #expect(error.code == .invalidAddress && error.message.contains("'\(text)' is not a subnet for replicas"))
        }
    }

    @Test func misalignedHostBitsAreNamedWithTheBlockMeant() {
        #expect(throws: KilnError.self) { try ReplicaSubnet(parsing: "10.201.3.7/16") }
        do {
            _ = try ReplicaSubnet(parsing: "10.201.3.7/16")
        } catch {
            #expect(error.message.contains("did you mean 10.201.0.0/16?"), "\(error.message)")
        }
    }
}
