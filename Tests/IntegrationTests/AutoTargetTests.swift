import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Link Tokens as Junction issues them, made once with Python's base64 and json modules; only the payload's
/// `aud` matters, and the signature is never checked.
enum LinkTokens {
    /// aud: https://api.sandbox.us.junction.com/v2/link
    static let sandboxUS =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL2FwaS5zYW5kYm94LnVzLmp1bmN0aW9uLmNvbS92Mi9saW5rI"
        + "iwic3ViIjoibGluay1zZXNzaW9uIiwidGVhbV9pZCI6InRlYW0iLCJ1c2VyX2lkIjoidXNlciJ9.c2ln"
    /// aud: https://api.eu.tryvital.io/v2/link, the legacy host of production EU.
    static let productionEULegacy =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL2FwaS5ldS50cnl2aXRhbC5pby92Mi9saW5rIiwic3ViIjoib"
        + "Gluay1zZXNzaW9uIiwidGVhbV9pZCI6InRlYW0iLCJ1c2VyX2lkIjoidXNlciJ9.c2ln"
    /// aud: https://auth.example.com, a customer's own token.
    static let foreign =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJzdWIiOiJsaW5rLXNlc3Npb2"
        + "4iLCJ0ZWFtX2lkIjoidGVhbSIsInVzZXJfaWQiOiJ1c2VyIn0.c2ln"

    static let cases: [(query: String, location: String?)] = [
        ("code=a%2Bb&state=\(sandboxUS)", "https://api.sandbox.us.junction.com/v2/link/connect/oura"),
        ("state=\(productionEULegacy)&code=1", "https://api.eu.junction.com/v2/link/connect/oura"),
        ("error=access_denied&state=\(sandboxUS)", "https://api.sandbox.us.junction.com/v2/link/connect/oura"),
        ("code=1&state=\(foreign)", "https://app.example.com/oauth/oura"),
        ("code=1&state=opaque", "https://app.example.com/oauth/oura"),
        ("code=1", "https://app.example.com/oauth/oura"),
        ("state=\(sandboxUS)&state=\(sandboxUS)", nil),
    ]

    static let environment: [(String, [UInt8])] = [
        ("OAUTH_FORWARD_TARGET", bytes("auto")),
        ("OAUTH_FORWARD_ENVIRONMENTS", bytes("sandbox-us,production-eu")),
        ("OAUTH_FORWARD_FALLBACK", bytes("https://app.example.com/oauth/{provider}")),
    ]
}

/// `OAUTH_FORWARD_TARGET=auto` through the built binary: as a CGI script, and behind the daemon.
@Suite struct AutoTargetTests {
    @Test(arguments: LinkTokens.cases)
    func cgiRoutesByTheStateToken(query: String, location: String?) throws {
        let finished = try ChildProcess.run(
            Binary.path,
            environment: [
                ("GATEWAY_INTERFACE", bytes("CGI/1.1")), ("REQUEST_METHOD", bytes("GET")),
                ("PATH_INFO", bytes("/oura")), ("QUERY_STRING", bytes(query)),
            ] + LinkTokens.environment)
        if let location {
            #expect(
                finished.stdoutText.hasPrefix("Location: \(location)?\(query)\r\nStatus: 307 Temporary Redirect\r\n"))
        } else {
            #expect(finished.stdoutText.hasPrefix("Status: 400 Bad Request\r\n"))
            #expect(!finished.stdoutText.contains("Location"))
        }
        #expect(finished.stderrText.contains(" route="))
        #expect(!finished.stderrText.contains("eyJ"))
    }

    @Test func daemonRoutesByTheStateTokenWithFlags() throws {
        let daemon = try Daemon(
            ["--workers", "1", "--target", "auto", "--environments", "sandbox-us,production-eu"], environment: [])
        for (query, location) in LinkTokens.cases {
            let answer = try daemon.get(query: query)
            if let location, location.contains("junction.com") {
                #expect(
                    answer.stdoutText.hasPrefix("Location: \(location)?\(query)\r\nStatus: 307 Temporary Redirect\r\n"))
            } else {
                // No fallback given: everything else is refused.
                #expect(answer.stdoutText.hasPrefix("Status: 400 Bad Request\r\n"))
            }
        }
        try waitForLog(containing: "route=aud_match", in: { daemon.log })
        try waitForLog(containing: "route=rejected state=foreign_aud", in: { daemon.log })
        try waitForLog(containing: "route=rejected state=duplicate", in: { daemon.log })
        #expect(!daemon.log.contains("eyJ"))
    }

    @Test func autoWithoutEnvironmentsStopsTheDaemon() throws {
        let directory = try makeScratchDirectory("autobad")
        let finished = try ChildProcess.run(
            Binary.path, ["serve", "--listen", directory + "/fcgi.sock", "--target", "auto"], environment: [])
        #expect(finished.status != 0)
        #expect(finished.stderrText.contains("OAUTH_FORWARD_ENVIRONMENTS is required when OAUTH_FORWARD_TARGET=auto"))
    }

    @Test func checkExplainsTheRoute() throws {
        let finished = try ChildProcess.run(
            Binary.path, ["check", "/oura?state=\(LinkTokens.sandboxUS)"], environment: LinkTokens.environment)
        #expect(finished.status == 0)
        #expect(
            finished.stdoutText.contains(
                "route: by the state token's aud, to sandbox-us, production-eu; other callbacks to app.example.com\n"))
        #expect(finished.stdoutText.contains("Location: https://api.sandbox.us.junction.com/v2/link/connect/oura?"))
        #expect(finished.stdoutText.contains("route=aud_match"))
    }
}
