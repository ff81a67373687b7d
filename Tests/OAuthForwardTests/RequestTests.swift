import Foundation
import Testing

@testable import OAuthForward

@Suite struct RequestTests {
    static let target = bytes("https://api.sandbox.us.junction.com/v2/link/connect/oura")

    @Test(arguments: [
        "code=abc123&state=xyz", "code=a+b", "code=a%2Bb", "code=a%20b", "redirect=%2Fpath%2F", "a=b=c", "code=",
        "code=&state=", "=", "&", "&&", "code=1&code=2&code=1", "state=eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln",
        "error=access_denied&error_description=The+user+denied", "z=1&a=2", "%", "%zz", "a=%ff%FE", "q=(x)!*'~;:@$,/?",
        "code=" + String(repeating: "A", count: 8192),
    ])
    func queryIsForwardedByteForByte(query: String) {
        let outcome = respond(query: bytes(query))
        #expect(outcome.status == 307)
        #expect(outcome.location == Self.target + bytes("?") + bytes(query))
    }

    @Test func rawHighBytesPassUnchanged() {
        let query = bytes("state=") + Array(0x80...0xFF) + bytes("&x=") + [0xFF, 0xFE, 0xC3, 0x28]
        let outcome = respond(query: query)
        #expect(outcome.status == 307)
        #expect(outcome.location == Self.target + bytes("?") + query)
        #expect(outcome.log.queryLength == query.count)
    }

    /// A GET or HEAD without a query is a reachability check (ReachabilityTests); a form_post callback is a POST
    /// without one, and its Location has no `?`.
    @Test func emptyQueryGivesNoQuestionMark() {
        #expect(respond(method: "POST", query: []).location == Self.target)
    }

    @Test(arguments: Array(0x00...0x1F) + [0x7F])
    func controlByteInQueryIsBadRequest(byte: Int) {
        let outcome = respond(query: bytes("code=a") + [UInt8(byte)] + bytes("b"))
        #expect(outcome.status == 400)
        #expect(outcome.location == nil)
        #expect(outcome.log.reason == "control byte in query")
    }

    /// The check reads eight bytes at a time: every byte value, at every place in a word and in the bytes after the
    /// last whole word, among neighbours that are plain, high (which a borrow could reach) or the edges 0x20 and
    /// 0x7E.
    @Test(arguments: [UInt8(ascii: "a"), 0x20, 0x7E, 0x80, 0xFF])
    func controlBytesAreFoundWhereverTheyAre(neighbour: UInt8) {
        #expect(![UInt8]().containsControlByte)
        for length in [1, 7, 8, 9, 17, 24] {
            let plain = [UInt8](repeating: neighbour, count: length)
            #expect(!plain.containsControlByte)
            for position in 0..<length {
                for byte in UInt8.min...UInt8.max {
                    var query = plain
                    query[position] = byte
                    let isControl = byte < 0x20 || byte == 0x7F
                    #expect(query.containsControlByte == isControl, "\(byte) at \(position) of \(length)")
                }
            }
        }
    }

    @Test(arguments: ["GET", "HEAD", "POST"])
    func forwardedMethodsAnswer307(method: String) {
        #expect(respond(method: method, query: bytes("code=1")).status == 307)
    }

    @Test(arguments: ["PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT", "get", "Post", "", "GET "] as [String?])
    func otherMethodsAnswer405WithAllow(method: String?) {
        let outcome = respond(method: method)
        #expect(outcome.status == 405)
        #expect(outcome.response.value(of: "Allow") == bytes("GET, HEAD, POST"))
        #expect(outcome.location == nil)
    }

    @Test func missingMethodAnswers405() {
        #expect(respond(method: nil).status == 405)
    }

    @Test(arguments: ["AUTHORIZER", "FILTER", "", "responder"])
    func fastCGIRoleOtherThanResponderIs500(role: String) {
        let outcome = respond(role: role)
        #expect(outcome.status == 500)
        #expect(outcome.log.reason == "FastCGI role is not RESPONDER")
    }

    @Test func responderRoleIsForwarded() {
        #expect(respond(query: bytes("code=1"), role: "RESPONDER").status == 307)
    }

    @Test func redirectIsSerializedExactly() {
        let outcome = respond(query: bytes("code=abc123&state=xyz"))
        let expected =
            "Location: https://api.sandbox.us.junction.com/v2/link/connect/oura?code=abc123&state=xyz\r\n"
            + "Status: 307 Temporary Redirect\r\n"
            + "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nContent-Length: 0\r\n\r\n"
        #expect(outcome.responseBytes == bytes(expected))
    }

    @Test func headRedirectIsTheSameAsGet() {
        #expect(
            respond(method: "HEAD", query: bytes("code=1")).responseBytes
                == respond(query: bytes("code=1")).responseBytes)
    }

    @Test func errorIsSerializedExactly() {
        let expected =
            "Status: 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"
            + "Referrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\nContent-Length: 24\r\n\r\n"
            + "Unknown OAuth callback.\n"
        #expect(respond(path: "/Oura").responseBytes == bytes(expected))
    }

    @Test func headErrorHasNoBody() {
        let bytes = respond(method: "HEAD", path: "/x-y").responseBytes
        #expect(bytes.suffix(4) == [13, 10, 13, 10])
        #expect(String(decoding: bytes, as: UTF8.self).contains("Content-Length: 24\r\n"))
    }

    /// Nothing from the request reaches an error answer: not the path, not the query, not the method.
    @Test(arguments: [
        ("GET", "/SECRETPATH", "code=SECRETCODE"), ("PUT", "/oura", "code=SECRETCODE"),
        ("GET", "/oura", "code=SECRET\rCODE"), ("SECRETMETHOD", "/oura", "state=SECRETCODE"),
        ("GET", "/oura\r\nSet-Cookie: SECRET", "x=1"),
    ])
    func errorsNeverEchoInput(method: String, path: String, query: String) {
        let outcome = respond(method: method, path: path, query: bytes(query))
        #expect(outcome.status != 307)
        let text = String(decoding: outcome.responseBytes, as: UTF8.self)
        #expect(!text.contains("SECRET"))
        #expect(!text.contains("Location"))
    }

    @Test(arguments: ["/oura", "/oura\nX: y", "/oura\rX: y", "/oura\r\n\r\nbody"])
    func everyHeaderLineIsFreeOfControlBytes(path: String) {
        for query in ["code=1", "code=\u{7F}", "code=\n"] {
            let text = String(decoding: respond(path: path, query: bytes(query)).responseBytes, as: UTF8.self)
            let head = text.components(separatedBy: "\r\n\r\n")[0]
            for line in head.components(separatedBy: "\r\n") {
                #expect(!line.utf8.contains { $0 < 0x20 || $0 == 0x7F })
            }
        }
    }
}
