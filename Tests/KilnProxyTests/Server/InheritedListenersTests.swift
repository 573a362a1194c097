import KilnCore
import Testing

@testable import KilnProxy

#if canImport(Glibc)
import Glibc
#endif

/// What a supervisor hands a proxy is checked before any of it becomes a channel.
struct InheritedListenersTests {
    /// A stream socket of this process's, closed at the end of the test.
    func withSocket(_ body: (Int32) throws -> Void) rethrows {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        try body(descriptor)
    }

    @Test func readsNamesAndDescriptorsAndWritesThemBack() throws {
        try withSocket { http in
            try withSocket { https in
                let text = "http:\(http),https:\(https)"
                let listeners = try InheritedListeners(environmentValue: text)
                #expect(listeners.descriptors == ["http": http, "https": https])
                #expect(listeners.environmentValue == text)
            }
        }
    }

    @Test(arguments: ["", "http", "http:", "http:x", "http:2", "ftp:5", "http:99999999999", "http:5:6", ",http:5"])
    func refusesWhatIsNotNameColonDescriptor(_ text: String) {
        #expect(throws: KilnError.self) { try InheritedListeners(environmentValue: text) }
    }

    @Test func refusesADescriptorThatIsNoStreamSocket() throws {
        // Standard input, output and errors are below 3; a pipe or a datagram socket is no listener.
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { ends.forEach { close($0) } }
        #expect(throws: KilnError.self) { try InheritedListeners(environmentValue: "http:\(ends[0])") }
        let datagram = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(datagram) }
        #expect(throws: KilnError.self) { try InheritedListeners(environmentValue: "http:\(datagram)") }
        #expect(throws: KilnError.self) { try InheritedListeners(environmentValue: "http:987654") }
    }

    @Test func refusesOneDescriptorTwiceOrOneNameTwice() throws {
        try withSocket { descriptor in
            #expect(throws: KilnError.self) { try InheritedListeners(environmentValue: "http:\(descriptor),https:\(descriptor)") }
            #expect(throws: KilnError.self) { try InheritedListeners(environmentValue: "http:\(descriptor),http:\(descriptor)") }
        }
    }
}
