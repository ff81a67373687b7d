import Testing

@testable import OAuthForward

@Suite struct TargetTests {
    @Test(arguments: [
        ("sandbox-us", "https://api.sandbox.us.junction.com/v2/link/connect/oura"),
        ("sandbox-eu", "https://api.sandbox.eu.junction.com/v2/link/connect/oura"),
        ("production-us", "https://api.us.junction.com/v2/link/connect/oura"),
        ("production-eu", "https://api.eu.junction.com/v2/link/connect/oura"),
    ])
    func presetsForwardToTheirOwnEnvironment(preset: String, location: String) {
        let outcome = respond(query: bytes("code=1"), configuration: .success(configuration(preset)))
        #expect(outcome.location == bytes(location + "?code=1"))
        #expect(outcome.log.target == preset)
    }

    @Test(arguments: [
        ("https://example.com/callback/{provider}", "https://example.com/callback/oura", "example.com"),
        ("https://example.com/{provider}/done", "https://example.com/oura/done", "example.com"),
        ("https://example.com:8443/cb/{provider}", "https://example.com:8443/cb/oura", "example.com:8443"),
        ("https://example.com/fixed", "https://example.com/fixed", "example.com"),
        ("https://example.com", "https://example.com", "example.com"),
        ("https://[2001:db8::1]/{provider}", "https://[2001:db8::1]/oura", "[2001:db8::1]"),
        ("http://127.0.0.1:9999/connect/{provider}", "http://127.0.0.1:9999/connect/oura", "127.0.0.1:9999"),
        ("http://[::1]:80/{provider}", "http://[::1]:80/oura", "[::1]:80"),
        ("http://localhost/{provider}", "http://localhost/oura", "localhost"),
        ("https://example.com/a%20b/{provider}", "https://example.com/a%20b/oura", "example.com"),
    ])
    func templatesForwardWithTheProviderFilledIn(template: String, location: String, host: String) throws {
        let target = try ForwardTarget(parsing: template)
        #expect(target.kind == .template)
        #expect(target.logName == host)
        let outcome = respond(query: bytes("code=1"), configuration: .success(configuration(template)))
        #expect(outcome.location == bytes(location + "?code=1"))
        #expect(outcome.log.target == host)
    }

    @Test(arguments: [
        ("", TargetError.empty), ("sandbox", .unknownPreset), ("Sandbox-US", .unknownPreset),
        ("production", .unknownPreset), (" sandbox-us", .unknownPreset), ("sandbox-us ", .unknownPreset),
        ("api.us.junction.com/{provider}", .unsupportedScheme), ("ftp://example.com/{provider}", .unsupportedScheme),
        ("HTTPS://example.com/{provider}", .unsupportedScheme), ("//example.com/{provider}", .unsupportedScheme),
        ("http://example.com/{provider}", .plainHTTPNotLoopback),
        ("http://127.0.0.2/{provider}", .plainHTTPNotLoopback),
        ("http://localhost.evil.com/{provider}", .plainHTTPNotLoopback), ("https:///{provider}", .invalidHost),
        ("https://user@example.com/{provider}", .invalidHost), ("https://exa mple.com/", .invalidHost),
        ("https://example.com:/x", .invalidHost), ("https://example.com:123456/x", .invalidHost),
        ("https://.example.com/x", .invalidHost), ("https://[::1/x", .invalidHost),
        ("https://example.com/cb?x=1", .hasQuery), ("https://example.com/{provider}?", .hasQuery),
        ("https://example.com/cb#x", .hasFragment), ("https://example.com/{provider}/{provider}", .placeholderRepeated),
        ("https://{provider}.example.com/", .placeholderOutsidePath), ("https://example.com/{Provider}", .strayBrace),
        ("https://example.com/}", .strayBrace), ("https://example.com/{provider", .strayBrace),
        ("https://example.com/a b", .invalidCharacter), ("https://example.com/a\r\nX: y", .invalidCharacter),
        ("https://example.com/\u{e9}", .invalidCharacter), ("https://example.com/a\"b", .invalidCharacter),
    ])
    func malformedTargetsAreRefused(value: String, expected: TargetError) {
        #expect(throws: expected) { try ForwardTarget(parsing: value) }
    }

    @Test(arguments: [nil, "", "staging", "http://example.com/{provider}"] as [String?])
    func unusableTargetAnswers500AndNamesTheVariable(value: String?) {
        let result = ConfigurationResult { () throws(ConfigurationError) in
            try Configuration(target: value.map(bytes), providers: nil)
        }
        let outcome = respond(configuration: result)
        #expect(outcome.status == 500)
        #expect(outcome.location == nil)
        let reason = outcome.log.reason ?? ""
        #expect(reason.hasPrefix("OAUTH_FORWARD_TARGET "))
        for preset in ["sandbox-us", "sandbox-eu", "production-us", "production-eu", "https://"] {
            #expect(reason.contains(preset))
        }
        #expect(outcome.log.target == nil)
    }

    @Test func noEnvironmentIsChosenWhenTheTargetIsUnset() {
        #expect(throws: ConfigurationError.target(.unset)) {
            try Configuration(target: nil, providers: bytes("oura"))
        }
    }

    @Test func everyPresetHasItsOwnHost() {
        let hosts = Set(JunctionEnvironment.allCases.map(\.host))
        #expect(hosts.count == JunctionEnvironment.allCases.count)
        #expect(JunctionEnvironment.sandboxUS.host.contains("sandbox"))
        #expect(JunctionEnvironment.sandboxEU.host.contains("sandbox"))
        #expect(!JunctionEnvironment.productionUS.host.contains("sandbox"))
        #expect(!JunctionEnvironment.productionEU.host.contains("sandbox"))
    }
}
