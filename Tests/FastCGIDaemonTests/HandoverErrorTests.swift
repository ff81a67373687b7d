import FastCGIDaemon
import Foundation
import Testing

@Suite struct HandoverErrorTests {
    /// The variable's value is quoted in the message with its control bytes escaped.
    @Test func aControlByteInTheValueIsEscaped() {
        let message = HandoverError(value: "listen-fd=3\r\nforged").message
        #expect(message.hasPrefix("OAUTH_FORWARD_HANDOVER=\"listen-fd=3\\x0d\\x0aforged\" cannot be used"))
        #expect(!message.utf8.contains { $0 < 0x20 })
    }
}
