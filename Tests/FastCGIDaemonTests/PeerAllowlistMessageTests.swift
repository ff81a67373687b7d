import FastCGIDaemon
import Testing

@Suite struct PeerAllowlistMessageTests {
    /// What the list held is quoted with its control bytes escaped, as the logfmt writer escapes them.
    @Test func controlBytesAreEscaped() throws {
        let error = #expect(throws: PeerAllowlistError.self) { try PeerAllowlist(parsing: "10.0.0.5\r") }
        let message = try #require(error).message
        #expect(message.hasPrefix("\"10.0.0.5\\x0d\" in the allowlist"), "\(message)")
        #expect(!message.utf8.contains { $0 < 0x20 })
    }
}
