import FastCGIDaemon
import Testing

@Suite struct PeerAllowlistTests {
    static let mapped = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF]
    static let loopback6 = [UInt8](repeating: 0, count: 15) + [1]

    @Test func parsesNumericAddressesOfBothFamilies() throws {
        let list = try PeerAllowlist(parsing: " 10.0.0.5,::1 ,[2001:db8::7],10.0.0.5")
        #expect(list.networks.count == 3)
        #expect(list.description == "10.0.0.5,::1,2001:db8::7")
        #expect(list.allows([10, 0, 0, 5]))
        #expect(!list.allows([10, 0, 0, 6]))
        #expect(list.allows(Self.loopback6))
        // An IPv4 peer seen through an IPv6 socket is compared as IPv4.
        #expect(list.allows(Self.mapped + [10, 0, 0, 5]))
    }

    @Test func aMappedAddressInTheListIsStoredAsIPv4() throws {
        let list = try PeerAllowlist(parsing: "::ffff:192.168.1.2")
        #expect(list.networks.map(\.bytes) == [[192, 168, 1, 2]])
        #expect(list.networks.map(\.prefixLength) == [32])
        #expect(list.description == "192.168.1.2")
    }

    @Test func rangesOfBothFamilies() throws {
        let list = try PeerAllowlist(parsing: "10.0.0.0/8, fd00::/8,192.168.7.128/25,[2001:db8::]/32")
        #expect(list.description == "10.0.0.0/8,fd00::/8,192.168.7.128/25,2001:db8::/32")
        #expect(list.allows([10, 0, 0, 0]))
        #expect(list.allows([10, 255, 255, 255]))
        #expect(list.allows(Self.mapped + [10, 1, 2, 3]))
        #expect(!list.allows([11, 0, 0, 0]))
        #expect(!list.allows([9, 255, 255, 255]))
        #expect(list.allows([192, 168, 7, 128]))
        #expect(list.allows([192, 168, 7, 255]))
        #expect(!list.allows([192, 168, 7, 127]))
        #expect(list.allows([0xFD] + [UInt8](repeating: 0xAB, count: 15)))
        #expect(!list.allows([0xFC] + [UInt8](repeating: 0xAB, count: 15)))
        #expect(list.allows([0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0xFF, count: 12)))
        #expect(!list.allows([0x20, 0x01, 0x0D, 0xB9] + [UInt8](repeating: 0, count: 12)))
        #expect(!list.allows(Self.loopback6))
        // The description is what the workers parse again.
        #expect(try PeerAllowlist(parsing: list.description) == list)
    }

    @Test func fullPrefixesAreSingleAddresses() throws {
        let list = try PeerAllowlist(parsing: "10.0.0.5/32,10.0.0.5,::1/128")
        #expect(list.description == "10.0.0.5,::1")
        #expect(list.allows([10, 0, 0, 5]))
        #expect(!list.allows([10, 0, 0, 4]))
    }

    /// Everyone is there only when written out, and each family's /0 lets in that family alone.
    @Test func everyoneOnlyWhenWrittenOut() throws {
        let ipv4 = try PeerAllowlist(parsing: "0.0.0.0/0")
        #expect(ipv4.allows([203, 0, 113, 9]))
        #expect(ipv4.allows(Self.mapped + [203, 0, 113, 9]))
        #expect(!ipv4.allows(Self.loopback6))
        let ipv6 = try PeerAllowlist(parsing: "::/0")
        #expect(ipv6.allows(Self.loopback6))
        #expect(!ipv6.allows([203, 0, 113, 9]))
        #expect(!ipv6.allows(Self.mapped + [203, 0, 113, 9]))
        // The unspecified addresses alone are single addresses no peer has.
        let unspecified = try PeerAllowlist(parsing: "0.0.0.0,::")
        #expect(!unspecified.allows([203, 0, 113, 9]))
        #expect(!unspecified.allows([0xFD] + [UInt8](repeating: 0, count: 15)))
    }

    @Test(arguments: [
        ("", PeerAllowlistError.empty("")), ("10.0.0.1,", .empty("10.0.0.1,")), (" , ", .empty(" , ")),
        ("localhost", .notNumeric("localhost")), ("10.0.0.1:9000", .notNumeric("10.0.0.1:9000")),
        ("300.1.1.1", .notNumeric("300.1.1.1")), ("10.0.0/8", .notNumeric("10.0.0/8")),
        ("example.com/24", .notNumeric("example.com/24")),
        // No word or short form for everyone.
        ("*", .notNumeric("*")), ("any", .notNumeric("any")), ("all", .notNumeric("all")), ("0/0", .notNumeric("0/0")),
        ("/0", .notNumeric("/0")), ("[::]/", .malformedRange("[::]/")),
    ])
    func refusesWhatIsNotANumericAddress(text: String, error: PeerAllowlistError) {
        #expect(throws: error) { try PeerAllowlist(parsing: text) }
    }

    @Test(arguments: [
        ("10.0.0.0/", PeerAllowlistError.malformedRange("10.0.0.0/")),
        ("10.0.0.0/08", .malformedRange("10.0.0.0/08")), ("10.0.0.0/+8", .malformedRange("10.0.0.0/+8")),
        ("10.0.0.0/-8", .malformedRange("10.0.0.0/-8")), ("10.0.0.0/ 8", .malformedRange("10.0.0.0/ 8")),
        ("10.0.0.0/8/8", .malformedRange("10.0.0.0/8/8")), ("10.0.0.0/0008", .malformedRange("10.0.0.0/0008")),
        ("10.0.0.0/٨", .malformedRange("10.0.0.0/٨")), ("10.0.0.0/1e1", .malformedRange("10.0.0.0/1e1")),
        ("10.0.0.0/33", .prefixTooLong("10.0.0.0/33", maximum: 32)),
        ("10.0.0.0/999", .prefixTooLong("10.0.0.0/999", maximum: 32)),
        ("fd00::/129", .prefixTooLong("fd00::/129", maximum: 128)),
        ("10.0.0.1/8", .hostBitsSet("10.0.0.1/8", network: "10.0.0.0/8")),
        ("192.168.7.130/25", .hostBitsSet("192.168.7.130/25", network: "192.168.7.128/25")),
        ("0.0.0.1/0", .hostBitsSet("0.0.0.1/0", network: "0.0.0.0/0")),
        ("fd00::1/8", .hostBitsSet("fd00::1/8", network: "fd00::/8")),
        ("::1/0", .hostBitsSet("::1/0", network: "::/0")),
        ("::ffff:10.0.0.0/104", .mappedRange("::ffff:10.0.0.0/104", ipv4: "10.0.0.0/8")),
        ("::ffff:10.0.0.5/128", .mappedRange("::ffff:10.0.0.5/128", ipv4: "10.0.0.5/32")),
        ("::ffff:0:0/96", .mappedRange("::ffff:0:0/96", ipv4: "0.0.0.0/0")),
        ("::ffff:10.0.0.1/104", .mappedRange("::ffff:10.0.0.1/104", ipv4: "10.0.0.0/8")),
    ])
    func refusesRangesThatDoNotSayOneThing(text: String, error: PeerAllowlistError) {
        #expect(throws: error) { try PeerAllowlist(parsing: text) }
        // Among good entries too, so one typo in a list is never skipped.
        #expect(throws: error) { try PeerAllowlist(parsing: "127.0.0.1, \(text)") }
    }

    @Test func refusalsNameWhatToWrite() {
        #expect(PeerAllowlistError.hostBitsSet("10.0.0.1/8", network: "10.0.0.0/8").message.contains("10.0.0.0/8"))
        #expect(PeerAllowlistError.prefixTooLong("10.0.0.0/33", maximum: 32).message.contains("/32"))
        #expect(
            PeerAllowlistError.mappedRange("::ffff:10.0.0.0/104", ipv4: "10.0.0.0/8").message.contains("10.0.0.0/8"))
    }

    @Test func knowsLoopback() {
        #expect(PeerAllowlist.isLoopback([127, 0, 0, 1]))
        #expect(PeerAllowlist.isLoopback([127, 9, 9, 9]))
        #expect(PeerAllowlist.isLoopback(Self.loopback6))
        #expect(PeerAllowlist.isLoopback(Self.mapped + [127, 0, 0, 1]))
        #expect(!PeerAllowlist.isLoopback([0, 0, 0, 0]))
        #expect(!PeerAllowlist.isLoopback([UInt8](repeating: 0, count: 16)))
        #expect(!PeerAllowlist.isLoopback([10, 0, 0, 1]))
    }
}
