import Testing

@testable import OAuthForward

/// A GET or HEAD without a query is a reachability check, not a callback: a callback always carries `code` or
/// `error`, with `state`. Issue 19, point 1.
@Suite struct ReachabilityTests {
    static let body = "This is the OAuth callback endpoint for oura.\n"

    static func prefixed(_ target: String = "sandbox-us") -> ConfigurationResult {
        ConfigurationValues(target: bytes(target), providers: nil, pathPrefix: bytes("/oauth_callback")).configuration()
    }

    /// Every target mode: a preset, a template, `auto` with and without a fallback, and a path prefix.
    static let everyMode: [(String, ConfigurationResult)] = [
        ("preset", .success(configuration())),
        ("template", .success(configuration("https://auth.example.com/connect/{provider}"))),
        ("auto", .success(auto())),
        ("auto with fallback", .success(auto(fallback: "https://app.example.com/oauth/{provider}"))),
        ("allowlist", .success(configuration(providers: "fitbit,oura"))),
    ]

    @Test func getIsAnsweredExactly() {
        let outcome = respond(query: [])
        let expected =
            "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"
            + "Referrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\nContent-Length: 46\r\n\r\n"
            + Self.body
        #expect(String(decoding: outcome.responseBytes, as: UTF8.self) == expected)
        #expect(
            outcome.log.line
                == "app=oauth-forward-cgi method=GET provider=oura status=200 target=sandbox-us query_bytes=0"
                + " route=reachability\n")
    }

    @Test func headHasTheSameHeaderAndNoBody() {
        let head = respond(method: "HEAD", query: []).responseBytes
        let get = respond(method: "GET", query: []).responseBytes
        #expect(head == Array(get.dropLast(Self.body.utf8.count)))
        #expect(String(decoding: head, as: UTF8.self).hasSuffix("Content-Length: 46\r\n\r\n"))
    }

    @Test(arguments: everyMode.map(\.0))
    func everyModeAnswers200(mode: String) {
        let configuration = Self.everyMode.first { $0.0 == mode }!.1
        for method in ["GET", "HEAD"] {
            let outcome = respond(method: method, query: [], configuration: configuration)
            #expect(outcome.status == 200, "\(mode) \(method)")
            #expect(outcome.location == nil)
            #expect(outcome.response.body == bytes(Self.body))
            #expect(outcome.log.route == "reachability")
            #expect(outcome.log.reason == nil)
            #expect(outcome.log.state == nil)
        }
    }

    @Test func theProviderIsNamedInTheBody() {
        let outcome = respond(path: "/google_fit", query: [])
        #expect(outcome.response.body == bytes("This is the OAuth callback endpoint for google_fit.\n"))
    }

    @Test func aPathPrefixIsReachableToo() {
        let outcome = respond(path: "/oauth_callback/oura", query: [], configuration: Self.prefixed())
        #expect(outcome.status == 200)
        #expect(outcome.log.provider == "oura")
        #expect(respond(path: "/oauth_callback/oura", query: [], configuration: Self.prefixed("auto")).status == 500)
    }

    /// Only a provider that would be forwarded is reachable: the path and the allowlist still give 404.
    @Test(
        arguments: [("/fitbit", "oura"), ("/Oura", nil), ("/oura//", nil), ("/oura/x", nil), ("/", nil)]
            as [(
                String, String?
            )])
    func aProviderThatIsNotForwardedIsStill404(path: String, providers: String?) {
        let outcome = respond(path: path, query: [], configuration: .success(configuration(providers: providers)))
        #expect(outcome.status == 404)
        #expect(outcome.log.route == nil)
    }

    /// The other refusals come first, as for a callback.
    @Test func methodsAndConfigurationAreCheckedFirst() {
        #expect(respond(method: "PUT", query: []).status == 405)
        #expect(respond(query: [], role: "AUTHORIZER").status == 500)
        let unset = ConfigurationValues(target: nil, providers: nil).configuration()
        #expect(respond(query: [], configuration: unset).status == 500)
    }

    /// A form_post callback (response_mode=form_post) has its fields in the body and no query: still forwarded.
    @Test func postWithoutAQueryIsStillForwarded() {
        let outcome = respond(method: "POST", query: [])
        #expect(outcome.status == 307)
        #expect(outcome.location == bytes("https://api.sandbox.us.junction.com/v2/link/connect/oura"))
        #expect(outcome.log.route == nil)
    }

    /// Any query at all, even one that holds no parameter, is a callback and forwarded as it came.
    @Test(arguments: ["=", "&", "a", "state=", "code=x&state=y", "error=access_denied&state=s"])
    func everyNonEmptyQueryIsForwarded(query: String) {
        for method in ["GET", "HEAD", "POST"] {
            let outcome = respond(method: method, query: bytes(query))
            #expect(outcome.status == 307)
            #expect(outcome.location == bytes("https://api.sandbox.us.junction.com/v2/link/connect/oura?" + query))
            #expect(outcome.log.route == nil)
        }
    }
}
