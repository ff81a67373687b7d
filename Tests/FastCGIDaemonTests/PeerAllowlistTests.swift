import FastCGIDaemon
import Testing

@Suite struct PeerAllowlistTests {
    @Test func parsesNumericAddressesOfBothFamilies() throws {
        let list = try PeerAllowlist(parsing: " 10.0.0.5,::1 ,[2001:db8::7],10.0.0.5")
        #expect(list.addresses.count == 3)
        #expect(list.description == "10.0.0.5,::1,2001:db8::7")
        #expect(list.allows([10, 0, 0, 5]))
        #expect(!list.allows([10, 0, 0, 6]))
        #expect(list.allows([UInt8](repeating: 0, count: 15) + [1]))
        // An IPv4 peer seen through an IPv6 socket is compared as IPv4.
        #expect(list.allows([UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 10, 0, 0, 5]))
    }

    @Test func aMappedAddressInTheListIsStoredAsIPv4() throws {
        let list = try PeerAllowlist(parsing: "::ffff:192.168.1.2")
        #expect(list.addresses == [[192, 168, 1, 2]])
    }

    @Test(arguments: [
        ("", PeerAllowlistError.empty("")), ("10.0.0.1,", .empty("10.0.0.1,")), (" , ", .empty(" , ")),
        ("localhost", .notNumeric("localhost")), ("10.0.0.0/8", .notNumeric("10.0.0.0/8")),
        ("10.0.0.1:9000", .notNumeric("10.0.0.1:9000")), ("300.1.1.1", .notNumeric("300.1.1.1")),
    ])
    func refusesWhatIsNotANumericAddress(text: String, error: PeerAllowlistError) {
        #expect(throws: error) { try PeerAllowlist(parsing: text) }
    }

    @Test func knowsLoopback() {
        #expect(PeerAllowlist.isLoopback([127, 0, 0, 1]))
        #expect(PeerAllowlist.isLoopback([127, 9, 9, 9]))
        #expect(PeerAllowlist.isLoopback([UInt8](repeating: 0, count: 15) + [1]))
        #expect(PeerAllowlist.isLoopback([UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 127, 0, 0, 1]))
        #expect(!PeerAllowlist.isLoopback([0, 0, 0, 0]))
        #expect(!PeerAllowlist.isLoopback([UInt8](repeating: 0, count: 16)))
        #expect(!PeerAllowlist.isLoopback([10, 0, 0, 1]))
    }
}
