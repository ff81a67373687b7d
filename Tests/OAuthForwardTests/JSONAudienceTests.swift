import Foundation
import Testing

@testable import OAuthForward

@Suite struct JSONAudienceTests {
    @Test(arguments: [
        (#"{"aud":"x"}"#, JSONAudience.Finding.audience(bytes("x"))),
        (
            #" { "a" : [1, -0.5e-3, true, false, null, {"b": []}], "aud" : "h\/t\u0041\ud83d\ude00" } "#,
            .audience(bytes("h/tA😀"))
        ),
        (#"{}"#, .noAudience), (#"{"aud":1}"#, .noAudience), (#"{"aud":{"x":"y"}}"#, .noAudience),
        (#"{"aud":"x",}"#, .malformed), (#"{"aud":'x'}"#, .malformed), (#"{"aud":"\ud83d"}"#, .malformed),
        (#"{"aud":"\x"}"#, .malformed), (#"{"a":01}"#, .malformed), (#"{"a":1.}"#, .malformed),
        (#"{"a":tru}"#, .malformed), (#""aud""#, .malformed), ("", .malformed), (#"{"aud":"a"}{"#, .malformed),
        ("{\"aud\":\"a\tb\"}", .malformed),
    ])
    func readsOnlyValidJSON(text: String, expected: JSONAudience.Finding) {
        #expect(JSONAudience.read(bytes(text)) == expected)
    }

    @Test(arguments: [
        ([UInt8](), true), (bytes("plain"), true), (bytes("é€😀"), true), ([0xEF, 0xBF, 0xBF], true),
        ([0xF4, 0x8F, 0xBF, 0xBF], true), ([0xC0, 0x80], false), ([0xC1, 0xBF], false), ([0xE0, 0x80, 0x80], false),
        ([0xED, 0xA0, 0x80], false), ([0xF0, 0x80, 0x80, 0x80], false), ([0xF4, 0x90, 0x80, 0x80], false),
        ([0xF5, 0x80, 0x80, 0x80], false), ([0xFF], false), ([0x80], false), ([0xE2, 0x82], false),
        ([0xE2, 0x28, 0xA1], false),
    ])
    func validatesUTF8AsTheStandardLibraryDoes(text: [UInt8], valid: Bool) {
        #expect(JSONAudience.isValidUTF8(text) == valid)
        #expect((String(validating: text, as: UTF8.self) != nil) == valid)
    }

    @Test func deepNestingIsRefusedNotRecursedInto() {
        let deep = "{\"a\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(JSONAudience.read(bytes(deep)) == .malformed)
    }
}
