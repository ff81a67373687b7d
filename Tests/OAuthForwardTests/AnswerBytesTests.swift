import Testing

@testable import OAuthForward

/// The answer's bytes and the log line written into buffers the daemon reuses from one request to the next
/// (issue 22): the same bytes as built fresh, whatever the buffer held before.
@Suite struct AnswerBytesTests {
    static let outcomes = [
        respond(query: bytes("code=abc&state=xyz")),
        respond(method: "HEAD", query: bytes("code=abc&state=xyz")),
        respond(query: []),
        respond(path: "/Not_A_Slug", query: bytes("code=1")),
        respond(method: "DELETE", query: bytes("code=1")),
    ]

    @Test func aReusedBufferHoldsExactlyTheAnswer() {
        var buffer = Array("left over from a longer answer before this one, which must not show".utf8)
        for outcome in Self.outcomes {
            outcome.writeResponse(into: &buffer)
            #expect(buffer == outcome.responseBytes)
        }
    }

    @Test func aReusedBufferHoldsExactlyTheLogLine() {
        var buffer = Array("app=oauth-forward-cgi method=GET provider=a_much_longer_provider status=307\n".utf8)
        for outcome in Self.outcomes {
            var log = outcome.log
            log.writeError = outcome.response.status == .notFound ? "fastcgi" : nil
            log.writeLine(into: &buffer)
            #expect(buffer == log.lineBytes)
            #expect(String(decoding: buffer, as: UTF8.self) == log.line)
        }
    }

    /// The 307's fixed part is built once and shared; it must say what a 307 built field by field says.
    @Test func theSharedRedirectHeadIsTheFieldsSerialized() {
        let redirect = CGIResponse.redirect(to: bytes("https://example.com/p?q=1"))
        let fieldByField = CGIResponse(
            status: .temporaryRedirect, location: bytes("https://example.com/p?q=1"),
            otherFields: redirect.otherFields)
        #expect(redirect == fieldByField)
        #expect(
            redirect.serialized()
                == bytes(
                    "Location: https://example.com/p?q=1\r\nStatus: 307 Temporary Redirect\r\n"
                        + "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nContent-Length: 0\r\n\r\n"))
    }

    @Test func numbersAreWrittenAsDecimalDigits() {
        for value in [0, 7, 10, 99, 307, 1000, 16_348, -1, -4096, Int.max, Int.min] {
            var digits: [UInt8] = []
            digits.append(decimal: value)
            #expect(String(decoding: digits, as: UTF8.self) == String(value))
        }
    }
}
