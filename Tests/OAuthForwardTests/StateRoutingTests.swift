import Foundation
import Testing

@testable import OAuthForward

/// A JWT with `payload` as its claims, the way Junction's Link Token looks; the signature is never checked.
func jwt(_ payload: String, padded: Bool = false, header: String = #"{"alg":"HS256","typ":"JWT"}"#) -> String {
    base64URL(Array(header.utf8)) + "." + base64URL(Array(payload.utf8), padded: padded) + ".c2lnbmF0dXJl"
}

func base64URL(_ bytes: [UInt8], padded: Bool = false) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    var text = ""
    var index = 0
    while index < bytes.count {
        let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
        let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * $1.offset) }
        for position in 0...chunk.count { text.append(alphabet[Int(value >> (18 - 6 * position)) & 63]) }
        if padded { text += String(repeating: "=", count: 3 - chunk.count) }
        index += 3
    }
    return text
}

func auto(_ environments: String = "sandbox-us,production-us", fallback: String? = nil) -> Configuration {
    try! Configuration(
        target: bytes("auto"), providers: nil, environments: bytes(environments), fallback: fallback.map(bytes))
}

@Suite struct StateRoutingTests {
    static let everyEnvironment = "sandbox-us,sandbox-eu,production-us,production-eu"

    static let audiences: [(String, JunctionEnvironment)] = [
        ("https://api.sandbox.us.junction.com/v2/link", .sandboxUS),
        ("https://api.sandbox.tryvital.io/v2/link", .sandboxUS),
        ("https://api.sandbox.eu.junction.com/v2/link", .sandboxEU),
        ("https://api.sandbox.eu.tryvital.io/v2/link", .sandboxEU),
        ("https://api.us.junction.com/v2/link", .productionUS),
        ("https://api.tryvital.io/v2/link", .productionUS),
        ("https://api.eu.junction.com/v2/link", .productionEU),
        ("https://api.eu.tryvital.io/v2/link", .productionEU),
    ]

    @Test(arguments: audiences, [false, true])
    func junctionTokenGoesToItsEnvironmentOnJunctionCom(audience: (String, JunctionEnvironment), padded: Bool) {
        let token = jwt(#"{"aud":"\#(audience.0)","sub":"session","team_id":"t","user_id":"u"}"#, padded: padded)
        let query = bytes("code=abc%2B1&state=\(token)")
        let outcome = respond(query: query, configuration: .success(auto(Self.everyEnvironment)))
        #expect(outcome.status == 307)
        #expect(
            outcome.location
                == bytes("https://\(audience.1.host)/v2/link/connect/oura?") + query)
        #expect(outcome.log.route == "aud_match")
        #expect(outcome.log.target == audience.1.presetName)
    }

    @Test func junctionComIsTheDestinationForLegacyAudiences() {
        let token = jwt(#"{"aud":"https://api.tryvital.io/v2/link"}"#)
        let outcome = respond(query: bytes("state=" + token), configuration: .success(auto("production-us")))
        #expect(outcome.location == bytes("https://api.us.junction.com/v2/link/connect/oura?state=" + token))
    }

    @Test func errorCallbackWithAJunctionStateIsForwarded() {
        let token = jwt(#"{"aud":"https://api.sandbox.us.junction.com/v2/link"}"#)
        let query = bytes("error=access_denied&error_description=User+denied&state=\(token)")
        let outcome = respond(query: query, configuration: .success(auto()))
        #expect(outcome.location == bytes("https://api.sandbox.us.junction.com/v2/link/connect/oura?") + query)
    }

    /// Percent-encoding is read through; the bytes forwarded stay encoded as they came.
    @Test func percentEncodedStateIsReadButForwardedAsIs() {
        let token = jwt(#"{"aud":"https://api.us.junction.com/v2/link"}"#, padded: true)
        let encoded = token.replacingOccurrences(of: ".", with: "%2E").replacingOccurrences(of: "=", with: "%3D")
        let query = bytes("st%61te=\(encoded)&code=x")
        let outcome = respond(query: query, configuration: .success(auto()))
        #expect(outcome.status == 307)
        #expect(outcome.location == bytes("https://api.us.junction.com/v2/link/connect/oura?") + query)
    }

    @Test func hugeTokenIsRead() {
        let filler = String(repeating: "x", count: 6000)
        let token = jwt(#"{"aud":"https://api.eu.junction.com/v2/link","pad":"\#(filler)","n":[1,2.5e3,{"a":null}]}"#)
        let outcome = respond(query: bytes("state=" + token), configuration: .success(auto("production-eu")))
        #expect(outcome.location == bytes("https://api.eu.junction.com/v2/link/connect/oura?state=" + token))
    }

    static let otherStates: [(String, StateToken.NotJunction)] = [
        ("code=1", .noState),
        ("state=", .notAJWT),
        ("state", .notAJWT),
        ("state=random-opaque-string-123", .notAJWT),
        ("state=a.b", .notAJWT),
        ("state=a.b.c.d", .notAJWT),
        ("state=.e30.", .notAJWT),
        ("state=%zz", .notAJWT),
        ("state=eyJ.e30!.sig", .badBase64),
        ("state=eyJ.e.sig", .badBase64),
        ("state=eyJ.e30===.sig", .badBase64),
        ("state=eyJ.e3+.sig", .badBase64),
        ("state=eyJ." + base64URL(Array("not json".utf8)) + ".sig", .badJSON),
        ("state=eyJ." + base64URL(Array(#"["aud"]"#.utf8)) + ".sig", .badJSON),
        ("state=eyJ." + base64URL(Array(#"{"aud":"x","aud":"y"}"#.utf8)) + ".sig", .badJSON),
        ("state=eyJ." + base64URL(Array(#"{"aud":"https://api.us.junction.com/v2/link"} x"#.utf8)) + ".sig", .badJSON),
        ("state=eyJ." + base64URL(Array(#"{"aud":"https://api.us.junction.com/v2/link""#.utf8)) + ".sig", .badJSON),
        ("state=eyJ." + base64URL([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D]) + ".sig", .badJSON),
        ("state=eyJ." + base64URL(Array(String(repeating: "[", count: 100).utf8)) + ".sig", .badJSON),
        ("state=" + jwt(#"{"sub":"x"}"#), .noAudience),
        ("state=" + jwt(#"{"aud":["https://api.us.junction.com/v2/link"]}"#), .noAudience),
        ("state=" + jwt(#"{"aud":null}"#), .noAudience),
        ("state=" + jwt(#"{"nested":{"aud":"https://api.us.junction.com/v2/link"}}"#), .noAudience),
        ("state=" + jwt(#"{"aud":"https://auth.example.com"}"#), .foreignAudience),
        ("state=" + jwt(#"{"aud":"https://api.us.junction.com/v2/link/"}"#), .foreignAudience),
        ("state=" + jwt(#"{"aud":"https://api.us.junction.com.evil.example/v2/link"}"#), .foreignAudience),
        ("state=" + jwt(#"{"aud":"https://api.us.junction.co/v2/link"}"#), .foreignAudience),
        ("state=" + jwt(#"{"aud":"http://api.us.junction.com/v2/link"}"#), .foreignAudience),
        ("state=" + jwt(#"{"aud":"HTTPS://API.US.JUNCTION.COM/v2/link"}"#), .foreignAudience),
        ("state=" + jwt(#"{"aud":"https://api.us.junction.com/v2/link\u0000"}"#), .foreignAudience),
        ("state=" + jwt(#"{"aud":"https://api.eu.junction.com/v2/link"}"#), .environmentNotAllowed),
        ("state=" + jwt(#"{"aud":"https://api.sandbox.eu.tryvital.io/v2/link"}"#), .environmentNotAllowed),
    ]

    @Test(arguments: otherStates)
    func otherCallbacksGoToTheFallbackByteForByte(query: String, why: StateToken.NotJunction) {
        let outcome = respond(
            query: bytes(query), configuration: .success(auto(fallback: "https://app.example.com/oauth/{provider}")))
        #expect(outcome.status == 307)
        #expect(outcome.location == bytes("https://app.example.com/oauth/oura?" + query))
        #expect(outcome.log.route == "fallback")
        #expect(outcome.log.state == why.rawValue)
        #expect(outcome.log.target == "app.example.com")
    }

    @Test(arguments: otherStates)
    func otherCallbacksAre400WithoutAFallback(query: String, why: StateToken.NotJunction) {
        let outcome = respond(query: bytes(query), configuration: .success(auto()))
        #expect(outcome.status == 400)
        #expect(outcome.location == nil)
        #expect(outcome.response.body == bytes("The state is not a Junction token for an allowed environment.\n"))
        #expect(outcome.log.route == "rejected")
        #expect(outcome.log.state == why.rawValue)
    }

    @Test(arguments: [
        "state=a&state=b", "state=" + jwt(#"{"aud":"https://api.us.junction.com/v2/link"}"#) + "&state=x",
        "state=x&code=1&%73tate=y", "state=&state=",
    ])
    func duplicateStateIs400EvenWithAFallback(query: String) {
        for configuration in [auto(), auto(fallback: "https://app.example.com/cb")] {
            let outcome = respond(query: bytes(query), configuration: .success(configuration))
            #expect(outcome.status == 400)
            #expect(outcome.location == nil)
            #expect(outcome.log.state == "duplicate")
        }
    }

    @Test func logNeverHoldsTheToken() {
        let token = jwt(#"{"aud":"https://api.us.junction.com/v2/link","sub":"SECRETSESSION"}"#)
        for configuration in [auto(), auto("sandbox-eu"), auto("sandbox-eu", fallback: "https://app.example.com/cb")] {
            let line = respond(query: bytes("code=SECRETCODE&state=" + token), configuration: .success(configuration))
                .log.line
            #expect(!line.contains("SECRET"))
            #expect(!line.contains(String(token.prefix(10))))
        }
    }

    @Test func everyLinkAudienceNamesItsEnvironmentAndNothingElseDoes() {
        for environment in JunctionEnvironment.allCases {
            for audience in environment.linkAudiences {
                #expect(JunctionEnvironment(linkAudience: audience) == environment)
                #expect(JunctionEnvironment(linkAudience: audience + bytes("/")) == nil)
                #expect(JunctionEnvironment(linkAudience: Array(audience.dropLast())) == nil)
            }
        }
        #expect(JunctionEnvironment(linkAudience: bytes("https:///v2/link")) == nil)
        #expect(JunctionEnvironment(linkAudience: bytes("https://v2/link")) == nil)
    }

    @Test func presetPathReadsNoState() {
        // A fixed target forwards even a query whose state is broken or doubled: nothing is parsed.
        let outcome = respond(query: bytes("state=a&state=%zz"))
        #expect(outcome.status == 307)
        #expect(outcome.log.route == nil)
    }

    @Test(
        arguments: [
            (nil, nil, ConfigurationError.environments(.unset)),
            ("", nil, .environments(.invalidEntry(position: 1))),
            ("sandbox-us,prod", nil, .environments(.invalidEntry(position: 2))),
            ("sandbox-us", "sandbox-eu", .fallback(.presetAsFallback)),
            ("sandbox-us", "http://app.example.com/cb", .fallback(.plainHTTPNotLoopback)),
            ("sandbox-us", "https://app.example.com/cb?x=1", .fallback(.hasQuery)),
            ("sandbox-us", "", .fallback(.empty)),
        ] as [(String?, String?, ConfigurationError)])
    func autoNeedsEnvironmentsAndAUsableFallback(environments: String?, fallback: String?, expected: ConfigurationError)
    {
        #expect(throws: expected) {
            try Configuration(
                target: bytes("auto"), providers: nil, environments: environments.map(bytes),
                fallback: fallback.map(bytes))
        }
        let outcome = respond(
            configuration: ConfigurationValues(
                target: bytes("auto"), environments: environments.map(bytes), fallback: fallback.map(bytes)
            ).configuration())
        #expect(outcome.status == 500)
        let variable =
            expected == .environments(.unset) || expected == .environments(.invalidEntry(position: 1))
                || expected == .environments(.invalidEntry(position: 2))
            ? "OAUTH_FORWARD_ENVIRONMENTS" : "OAUTH_FORWARD_FALLBACK"
        #expect(outcome.log.reason?.hasPrefix(variable) == true)
    }

    @Test func environmentsAndFallbackAreIgnoredWithAFixedTarget() throws {
        let configuration = try Configuration(
            target: bytes("sandbox-eu"), providers: nil, environments: bytes("bogus"), fallback: bytes("bogus"))
        #expect(configuration.route == .fixed(ForwardTarget(.sandboxEU)))
    }

    /// A fallback is where callbacks that are not Junction's go: a Junction API host there, in either host form
    /// and any case, would send them to an environment the allowlist does not name.
    @Test(arguments: JunctionEnvironment.allCases.flatMap { [$0.host, $0.legacyHost] })
    func aFallbackToAJunctionAPIHostIsRefused(host: String) {
        for url in [
            "https://\(host)/v2/link/connect/{provider}", "https://\(host.uppercased())/x", "https://\(host):443/cb",
        ] {
            #expect(throws: ConfigurationError.fallback(.junctionHostAsFallback), "\(url)") {
                try Configuration(
                    target: bytes("auto"), providers: nil, environments: bytes("sandbox-us"), fallback: bytes(url))
            }
        }
    }
}
