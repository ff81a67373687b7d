import Testing

@testable import OAuthForward

@Suite struct ProviderTests {
    @Test(arguments: ["/oura", "/google_fit", "/dexcom_v3", "/a", "/0", "/_", "/" + String(repeating: "a", count: 64)])
    func validProviderIsForwarded(path: String) {
        let outcome = respond(path: path, query: bytes("code=1"))
        #expect(outcome.status == 307)
        #expect(outcome.location == bytes("https://api.sandbox.us.junction.com/v2/link/connect" + path + "?code=1"))
        #expect(outcome.log.provider == String(path.dropFirst()))
    }

    @Test(arguments: [
        "", "/", "oura", "/oura//", "//oura", "/Oura", "/OURA", "/oura-ring", "/oura.ring", "/../oura", "/oura/x",
        "/%6fura", "/ou ra", "/oura\t", "/oura\r", "/oura\nLocation: https://evil.example", "/oura?x=1", "/oura#x",
        "/\u{e9}", "/" + String(repeating: "a", count: 65), "/oura\\", "/oura;x",
    ])
    func malformedProviderIsNotFound(path: String) {
        let outcome = respond(path: path)
        #expect(outcome.status == 404)
        #expect(outcome.location == nil)
        #expect(outcome.log.provider == nil)
        #expect(outcome.log.reason == Rejection.invalidProvider.logReason)
    }

    @Test func missingPathInfoIsNotFound() {
        #expect(respond(path: nil).status == 404)
    }

    @Test(arguments: [[UInt8(0x00)], [0x80], [0xC3, 0xA9], [0xFF]])
    func nonASCIIOrNULInProviderIsNotFound(suffix: [UInt8]) {
        let request = CGIRequest(method: bytes("GET"), pathInfo: bytes("/oura") + suffix, query: [])
        #expect(Forwarder.respond(to: request, configuration: .success(configuration())).response.status == .notFound)
    }

    @Test(arguments: [("oura", "/oura"), ("oura,fitbit", "/fitbit"), (" oura , fitbit ", "/fitbit")])
    func allowlistedProviderIsForwarded(list: String, path: String) {
        let outcome = respond(
            path: path, query: bytes("code=1"), configuration: .success(configuration(providers: list)))
        #expect(outcome.status == 307)
    }

    @Test(arguments: [("oura", "/fitbit"), ("oura,fitbit", "/garmin"), ("oura", "/our"), ("oura", "/oura_")])
    func providerOutsideAllowlistIsNotFound(list: String, path: String) {
        let outcome = respond(path: path, configuration: .success(configuration(providers: list)))
        #expect(outcome.status == 404)
        #expect(outcome.location == nil)
        #expect(outcome.log.reason == "provider not in OAUTH_FORWARD_PROVIDERS")
    }

    @Test(arguments: [
        ("", AllowlistError.emptyEntry(position: 1)), ("oura,", .emptyEntry(position: 2)),
        (",oura", .emptyEntry(position: 1)), ("oura,,fitbit", .emptyEntry(position: 2)),
        ("Oura", .invalidEntry(position: 1)), ("oura,fit-bit", .invalidEntry(position: 2)),
        ("oura fitbit", .invalidEntry(position: 1)), ("*", .invalidEntry(position: 1)),
    ])
    func malformedAllowlistIsAConfigurationError(list: String, expected: AllowlistError) {
        #expect(throws: expected) { try ProviderAllowlist(parsing: bytes(list)) }
        let result = ConfigurationResult { () throws(ConfigurationError) in
            try Configuration(target: bytes("sandbox-us"), providers: bytes(list))
        }
        let outcome = respond(configuration: result)
        #expect(outcome.status == 500)
        #expect(outcome.log.reason?.hasPrefix("OAUTH_FORWARD_PROVIDERS ") == true)
    }
}
