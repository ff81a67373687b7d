import FastCGIDaemon
import Testing

@Suite struct HandoverTests {
    @Test func roundTrips() {
        for handover in [
            Handover(listenFD: 3, workers: [101, 102], version: "0.2.0"),
            Handover(listenFD: 0, workers: [], version: "1.0.0-rc1"),
        ] {
            #expect(Handover(decoding: handover.encoded) == handover)
        }
        #expect(
            Handover(listenFD: 3, workers: [7, 8], version: "0.2.0").encoded == "listen-fd=3 workers=7,8 version=0.2.0")
    }

    @Test(arguments: [
        "", "listen-fd=3", "listen-fd=3 workers=1 version=", "listen-fd=-1 workers=1 version=1",
        "listen-fd=x workers=1 version=1", "listen-fd=3 workers=1,,2 version=1", "listen-fd=3 workers=0 version=1",
        "listen-fd=3 workers=1, version=1", "listen-fd=3 workers=1 version=1 extra=2",
        "listen-fd=3 listen-fd=4 workers=1 version=1", "listen-fd=3 workers=-5 version=1",
    ])
    func refusesAnythingElse(_ text: String) {
        #expect(Handover(decoding: text) == nil)
    }
}

@Suite struct HandoverErrorTests {
    /// The variable's value is quoted in the message with its control bytes escaped.
    @Test func aControlByteInTheValueIsEscaped() {
        let message = HandoverError(value: "listen-fd=3\r\nforged").message
        #expect(message.hasPrefix("OAUTH_FORWARD_HANDOVER=\"listen-fd=3\\x0d\\x0aforged\" cannot be used"))
        #expect(!message.utf8.contains { $0 < 0x20 })
    }
}
