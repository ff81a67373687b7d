import Testing

@testable import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

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
        let target = try ForwardTarget(parsing: bytes(template))
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
        ("https://example.com:/x", .invalidPort), ("https://example.com:123456/x", .invalidPort),
        ("https://.example.com/x", .invalidHost), ("https://[::1/x", .invalidHost),
        ("https://example.com/cb?x=1", .hasQuery), ("https://example.com/{provider}?", .hasQuery),
        ("https://example.com/cb#x", .hasFragment), ("https://example.com/{provider}/{provider}", .placeholderRepeated),
        ("https://{provider}.example.com/", .placeholderOutsidePath), ("https://example.com/{Provider}", .strayBrace),
        ("https://example.com/}", .strayBrace), ("https://example.com/{provider", .strayBrace),
        ("https://example.com/a b", .invalidCharacter), ("https://example.com/a\r\nX: y", .invalidCharacter),
        ("https://example.com/\u{e9}", .invalidCharacter), ("https://example.com/a\"b", .invalidCharacter),
    ])
    func malformedTargetsAreRefused(value: String, expected: TargetError) {
        #expect(throws: expected) { try ForwardTarget(parsing: bytes(value)) }
    }

    /// RFC 3986 (sections 3.2.2, 3.2.3 and 2.1) for what a template's authority and path may hold, beyond what the
    /// table above checks: ports, IP literals, host labels and percent escapes.
    @Test(arguments: [
        ("https://example.com:0/x", TargetError.invalidPort), ("https://example.com:65536/x", .invalidPort),
        ("https://example.com:99999/x", .invalidPort), ("https://example.com:08443/x", .invalidPort),
        ("https://example.com:00/x", .invalidPort), ("https://[::1]:0/x", .invalidPort),
        ("https://[:]/x", .invalidHost), ("https://[1.2.3.4]/x", .invalidHost), ("https://[::1::2]/x", .invalidHost),
        ("https://[12345::]/x", .invalidHost), ("https://[1:2:3:4:5:6:7:8:9]/x", .invalidHost),
        ("https://[1:2:3:4:5:6:7]/x", .invalidHost), ("https://[::ffff:1.2.3]/x", .invalidHost),
        ("https://[::ffff:1.2.3.256]/x", .invalidHost), ("https://[fe80::1%25eth0]/x", .invalidHost),
        ("https://a..b/x", .invalidHost), ("https://example.com./x", .invalidHost),
        ("https://a-.example/x", .invalidHost),
        ("https://example.-com/x", .invalidHost),
        ("https://" + String(repeating: "a", count: 64) + ".com/x", .invalidHost),
        ("https://example.com/a%2/x", .invalidPercentEscape), ("https://example.com/a%zz", .invalidPercentEscape),
        ("https://example.com/a%", .invalidPercentEscape),
        ("https://example.com/%{provider}x", .percentBeforePlaceholder),
        ("https://example.com/cb/%{provider}", .percentBeforePlaceholder),
    ])
    func templatesMustBeValidURIs(value: String, expected: TargetError) {
        #expect(throws: expected) { try ForwardTarget(parsing: bytes(value)) }
    }

    @Test(arguments: [
        "https://example.com:1/x", "https://example.com:65535/x", "https://[::ffff:1.2.3.4]/x",
        "https://[2001:db8::]/x",
        "https://[1:2:3:4:5:6:7:8]/x", "https://[::]/x", "https://a-b.example/x", "https://9.example/x",
        "https://" + String(repeating: "a", count: 63) + ".com/x", "https://example.com/%2F%7e/{provider}%20x",
        "https://EXAMPLE.com/{provider}",
    ])
    func validTemplatesAreAccepted(value: String) throws {
        #expect(try ForwardTarget(parsing: bytes(value)).kind == .template)
    }

    /// The library's IPv6 literal check accepts exactly what glibc's inet_pton accepts, over a corpus of near
    /// misses built from the grammar's parts.
    @Test func ipv6LiteralsAgreeWithInetPton() {
        let parts = [
            "", ":", "::", "0", "1", "ffff", "FFFF", "12345", "g", "1.2.3.4", "256.1.1.1", "1.2.3", "01.2.3.4",
        ]
        var checked = 0
        for a in parts {
            for b in parts {
                for c in parts {
                    for middle in [":", "::"] {
                        let literal = a + middle + b + ":" + c
                        var address = in6_addr()
                        let expected = inet_pton(AF_INET6, literal, &address) == 1
                        #expect(IPv6Literal.isValid(Array(literal.utf8)) == expected, "\(literal)")
                        checked += 1
                    }
                }
            }
        }
        for literal in ["1:2:3:4:5:6:7:8", "1::", "::1", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4"] {
            var address = in6_addr()
            #expect(IPv6Literal.isValid(Array(literal.utf8)) == (inet_pton(AF_INET6, literal, &address) == 1))
        }
        #expect(checked > 4000)
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

    @Test(arguments: JunctionEnvironment.allCases)
    func aPresetIsItsTemplateParsed(environment: JunctionEnvironment) throws {
        let parsed = try ForwardTarget(parsing: bytes(environment.callbackTemplate))
        let preset = ForwardTarget(environment)
        #expect((preset.host, preset.head, preset.tail) == (parsed.host, parsed.head, parsed.tail))
    }
}
