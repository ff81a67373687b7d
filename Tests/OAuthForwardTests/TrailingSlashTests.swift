import Testing

@testable import OAuthForward

/// One slash after the provider name is accepted and dropped; two, or anything after it, are not a provider.
/// Issue 19, point 2.
@Suite struct TrailingSlashTests {
    static let target = "https://api.sandbox.us.junction.com/v2/link/connect/"

    @Test(arguments: [
        ("/oura/", "oura"), ("/google_fit/", "google_fit"), ("/a/", "a"),
        ("/" + String(repeating: "a", count: 64) + "/", String(repeating: "a", count: 64)),
    ])
    func oneSlashForwardsToTheSameTarget(path: String, provider: String) {
        let query = "code=abc&state=xyz"
        let outcome = respond(path: path, query: bytes(query))
        #expect(outcome.status == 307)
        #expect(outcome.location == bytes(Self.target + provider + "?" + query))
        #expect(outcome.log.provider == provider)
        #expect(outcome.log.trailingSlash)
    }

    @Test func theLogNotesTheSlash() {
        let outcome = respond(path: "/oura/", query: bytes("code=1"))
        #expect(
            outcome.log.line
                == "app=oauth-forward-cgi method=GET provider=oura status=307 target=sandbox-us query_bytes=6"
                + " trailing_slash=1\n")
        #expect(!respond(path: "/oura", query: bytes("code=1")).log.line.contains("trailing_slash"))
    }

    @Test func aReachabilityCheckWithTheSlashIsLoggedSo() {
        let outcome = respond(path: "/oura/", query: [])
        #expect(outcome.status == 200)
        #expect(outcome.log.line.hasSuffix(" route=reachability trailing_slash=1\n"), "\(outcome.log.line)")
    }

    @Test func autoAndTheAllowlistTakeTheSlash() {
        let allowlisted = respond(
            path: "/oura/", query: bytes("code=1"), configuration: .success(configuration(providers: "oura")))
        #expect(allowlisted.location == bytes(Self.target + "oura?code=1"))
        let refused = respond(
            path: "/fitbit/", query: bytes("code=1"), configuration: .success(configuration(providers: "oura")))
        #expect(refused.status == 404)
        let fallback = respond(
            path: "/oura/", query: bytes("code=1&state=x"),
            configuration: .success(auto(fallback: "https://app.example.com/oauth/{provider}")))
        #expect(fallback.location == bytes("https://app.example.com/oauth/oura?code=1&state=x"))
        #expect(
            fallback.log.line.hasSuffix(" route=fallback state=not_a_jwt trailing_slash=1\n"), "\(fallback.log.line)")
    }

    @Test(arguments: [
        "/oura//", "/oura/x", "/oura/x/", "//oura", "//oura/", "/oura/ ", "/oura/.", "/oura/%2f", "/oura\\/", "//", "/",
        "/Oura/", "/oura/?", "/oura/\n",
    ])
    func anythingElseIsNotFound(path: String) {
        let outcome = respond(path: path, query: bytes("code=1"))
        #expect(outcome.status == 404)
        #expect(outcome.log.provider == nil)
        #expect(!outcome.log.trailingSlash)
    }

    @Test(arguments: [
        ("/oauth_callback/oura/", 307), ("/oauth_callback/oura//", 404), ("/oauth_callback//", 404),
        ("/oauth_callback/oura/x", 404), ("/oauth_callback//oura", 404), ("/oauth_callback/", 404),
    ])
    func theSameHoldsAfterAPathPrefix(path: String, status: Int) {
        let outcome = respond(path: path, query: bytes("code=1"), configuration: ReachabilityTests.prefixed())
        #expect(outcome.status == status)
        if status == 307 {
            #expect(outcome.location == bytes(Self.target + "oura?code=1"))
            #expect(outcome.log.trailingSlash)
        }
    }
}
