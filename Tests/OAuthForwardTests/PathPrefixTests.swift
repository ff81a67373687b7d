import Testing

@testable import OAuthForward

/// `OAUTH_FORWARD_PATH_PREFIX`: the part of `PATH_INFO` in front of `/{provider}` that a server like H2O leaves there.
/// Only that prefix is stripped, and only in front of `/`; the provider rule after it is the same as without one.
@Suite struct PathPrefixTests {
    static func prefixed(_ prefix: String = "/oauth_callback", providers: String? = nil) -> ConfigurationResult {
        ConfigurationValues(target: bytes("sandbox-us"), providers: providers.map(bytes), pathPrefix: bytes(prefix))
            .configuration()
    }

    @Test(arguments: [
        ("/oauth_callback", "/oauth_callback/oura", "oura"),
        ("/oauth_callback", "/oauth_callback/google_fit", "google_fit"),
        ("/sandbox/oauth_callback", "/sandbox/oauth_callback/dexcom_v3", "dexcom_v3"),
        ("/a", "/a/" + String(repeating: "z", count: 64), String(repeating: "z", count: 64)),
        ("/Call-Back.v2~x", "/Call-Back.v2~x/oura", "oura"),
    ])
    func theProviderAfterThePrefixIsForwarded(prefix: String, path: String, provider: String) {
        let outcome = respond(path: path, query: bytes("code=1"), configuration: Self.prefixed(prefix))
        #expect(outcome.status == 307)
        #expect(outcome.location == bytes("https://api.sandbox.us.junction.com/v2/link/connect/\(provider)?code=1"))
        #expect(outcome.log.provider == provider)
    }

    /// Nothing is guessed: no other prefix, no prefix at all, no case folding, and the provider rule unchanged.
    @Test(arguments: [
        "/oura", "/oauth_callback", "/oauth_callback/", "/oauth_callbackoura", "/oauth_callback_x/oura",
        "/oauth_callback//oura", "/OAUTH_CALLBACK/oura", "/x/oauth_callback/oura", "oauth_callback/oura",
        "/oauth_callback/oura//", "/oauth_callback/oura/x", "/oauth_callback/Oura", "/oauth_callback/ou%2fra",
        "/oauth_callback/oura\nX-Injected: 1", "/oauth_callback/../oura", "/oauth_callback/oauth_callback/oura",
        "/oauth_callback/" + String(repeating: "a", count: 65), "/oauth_callbac", "",
    ])
    func anyOtherPathIsNotFound(path: String) {
        let outcome = respond(path: path, configuration: Self.prefixed())
        #expect(outcome.status == 404)
        #expect(outcome.location == nil)
        #expect(outcome.log.provider == nil)
        #expect(outcome.log.reason == Rejection.invalidProvider.logReason)
    }

    @Test func missingPathInfoIsNotFound() {
        #expect(respond(path: nil, configuration: Self.prefixed()).status == 404)
    }

    @Test func theAllowlistAppliesAfterThePrefix() {
        let allowed = respond(
            path: "/oauth_callback/oura", query: bytes("code=1"), configuration: Self.prefixed(providers: "oura"))
        #expect(allowed.status == 307)
        let refused = respond(path: "/oauth_callback/fitbit", configuration: Self.prefixed(providers: "oura"))
        #expect(refused.status == 404)
        #expect(refused.log.provider == "fitbit")
        #expect(refused.log.reason == "provider not in OAUTH_FORWARD_PROVIDERS")
    }

    /// Unset, the rule is as it always was.
    @Test func withoutAPrefixPathInfoIsTheProviderAlone() throws {
        let configuration = try Configuration(target: bytes("sandbox-us"), providers: nil)
        #expect(configuration.pathPrefix == .none)
        #expect(respond(path: "/oura", query: bytes("code=1")).status == 307)
        #expect(respond(path: "/oauth_callback/oura").status == 404)
    }

    @Test(arguments: [
        ("", PathPrefixError.empty), ("oauth_callback", .notAbsolute), ("/", .trailingSlash),
        ("/oauth_callback/", .trailingSlash), ("//oauth_callback", .unnormalisedSegment),
        ("/a//b", .unnormalisedSegment), ("/./a", .unnormalisedSegment), ("/a/..", .unnormalisedSegment),
        ("/oauth callback", .invalidByte(position: 7)), ("/a%2fb", .invalidByte(position: 3)),
        ("/a?b", .invalidByte(position: 3)), ("/a\n", .invalidByte(position: 3)),
        ("/\u{e9}", .invalidByte(position: 2)),
        ("/" + String(repeating: "a", count: 255), .tooLong),
    ])
    func malformedPrefixesAreRefused(value: String, expected: PathPrefixError) {
        #expect(throws: expected) { try PathPrefix(parsing: bytes(value)) }
        let outcome = respond(path: "/oura", configuration: Self.prefixed(value))
        #expect(outcome.status == 500)
        #expect(outcome.log.reason?.hasPrefix("OAUTH_FORWARD_PATH_PREFIX \(expected.problem); ") == true)
    }

    @Test(arguments: ["/oauth_callback", "/a", "/.well-known/x", "/a/...", "/v2/oauth_callback"])
    func wellFormedPrefixesAreAccepted(value: String) throws {
        #expect(try PathPrefix(parsing: bytes(value)).bytes == bytes(value))
    }

    /// A request's own value wins over the process's, as for the other variables, and the settings file reads it.
    @Test func itIsReadLikeTheOtherVariables() throws {
        let request = ConfigurationValues(pathPrefix: bytes("/oauth_callback"))
        let process = ConfigurationValues(target: bytes("production-us"), pathPrefix: bytes("/other"))
        #expect(request.overriding(process)[.pathPrefix] == bytes("/oauth_callback"))
        #expect(!request.isEmpty)
        let file = try SettingsFile(parsing: bytes("OAUTH_FORWARD_PATH_PREFIX=/oauth_callback\n"), allowsOptions: false)
        #expect(file.configurationValues.value(of: .pathPrefix) == bytes("/oauth_callback"))
        let lookedUp = ConfigurationValues { $0 == "OAUTH_FORWARD_PATH_PREFIX" ? bytes("/x") : nil }
        #expect(lookedUp[.pathPrefix] == bytes("/x"))
    }
}
