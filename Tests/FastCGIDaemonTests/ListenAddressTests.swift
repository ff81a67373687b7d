import Testing

@testable import FastCGIDaemon

@Suite struct ListenAddressTests {
    @Test(arguments: [
        (
            "/run/oauth-forward-cgi/oauth-forward-cgi.sock",
            ListenAddress.unix(path: "/run/oauth-forward-cgi/oauth-forward-cgi.sock")
        ),
        ("./fcgi.sock", .unix(path: "./fcgi.sock")),
        ("127.0.0.1:9000", .ipv4(address: "127.0.0.1", port: 9000)),
        ("0.0.0.0:1", .ipv4(address: "0.0.0.0", port: 1)),
        ("[::1]:9000", .ipv6(address: "::1", port: 9000)),
        ("[2001:db8::1]:65535", .ipv6(address: "2001:db8::1", port: 65535)),
    ])
    func acceptsPathsAndNumericAddresses(value: String, expected: ListenAddress) throws {
        #expect(try ListenAddress(parsing: value) == expected)
    }

    @Test(arguments: [
        ("", ListenAddressError.empty), ("localhost:9000", .hostName), ("example.com:80", .hostName),
        ("127.0.0.1", .malformed), ("9000", .malformed), ("127.0.0.1:0", .badPort), ("127.0.0.1:65536", .badPort),
        ("127.0.0.1:x", .badPort), ("256.0.0.1:9000", .malformed), ("[::1]", .malformed), ("[::1:9000", .malformed),
        ("/" + String(repeating: "a", count: 107), .unixPathTooLong),
        // Refused here, by inet_pton, rather than after a socket was made: the hand-written check let them by.
        ("[:]:9000", .malformed), ("[1.2.3.4]:9000", .malformed), ("[::1::2]:9000", .malformed),
        ("01.2.3.4:9000", .malformed), ("1.2.3:9000", .malformed),
    ])
    func refusesTheRest(value: String, expected: ListenAddressError) {
        #expect(throws: expected) { try ListenAddress(parsing: value) }
        #expect(expected.message.contains("--listen"))
    }
}
