import Testing

@testable import OAuthForward

@Suite struct LogTests {
    @Test func redirectLineHasTheAgreedFields() {
        let outcome = respond(query: bytes("code=abc&state=xyz"))
        #expect(
            outcome.log.line
                == "app=oauth-forward-cgi method=GET provider=oura status=307 target=sandbox-us query_bytes=18\n")
    }

    @Test func templateTargetIsLoggedByHostOnly() {
        let outcome = respond(configuration: .success(configuration("https://cb.example.com/secret-path/{provider}")))
        #expect(outcome.log.line.contains(" target=cb.example.com "))
        #expect(!outcome.log.line.contains("secret-path"))
    }

    @Test func errorLineCarriesTheReason() {
        let outcome = respond(method: "DELETE")
        #expect(
            outcome.log.line
                == "app=oauth-forward-cgi method=DELETE provider=oura status=405 target=sandbox-us query_bytes=0"
                + " reason=\"method not allowed\"\n")
    }

    @Test(arguments: [
        ("GET", "/oura", "code=SECRETCODE&state=SECRETSTATE"), ("GET", "/SECRET", "code=SECRETCODE"),
        ("GET", "/oura", "code=SECRET\nCODE"), ("PUT", "/oura", "state=SECRETSTATE"),
        ("SECRET\n", "/oura", "code=SECRETCODE"), ("GET", "/oura\nSECRET=1", "x"),
    ])
    func lineNeverHoldsTheQueryOrRawInput(method: String, path: String, query: String) {
        let line = respond(method: method, path: path, query: bytes(query)).log.line
        #expect(!line.contains("SECRET"))
        #expect(line.utf8.filter { $0 == 0x0A }.count == 1)
        #expect(line.hasSuffix("\n"))
    }

    @Test(arguments: [("GET", "GET"), ("PUT", "PUT"), ("get", "invalid"), ("G\nET", "invalid"), ("", "invalid")])
    func methodIsLoggedOnlyAsAPlainToken(method: String, logged: String) {
        #expect(respond(method: method).log.method == logged)
    }

    @Test(arguments: [
        ("plain", "plain"), ("two words", "\"two words\""), ("a=b", "\"a=b\""), ("q\"uote", "\"q\\\"uote\""),
        ("line\nbreak", "\"line\\x0abreak\""), ("", "\"\""),
    ])
    func valuesAreQuotedTheLogfmtWay(value: String, quoted: String) {
        var line = LogLine()
        line.add("key", value)
        #expect(line.line == "app=oauth-forward-cgi key=\(quoted)\n")
    }

    /// A server's write error is a field of its own at the end, not a patch on the finished line.
    @Test func writeErrorIsTheLastField() {
        var log = respond(path: "/oura", query: bytes("code=1")).log
        log.writeError = "stdout"
        #expect(log.line.hasSuffix(" query_bytes=6 write_error=stdout\n"), "\(log.line)")
        #expect(log.line.filter { $0 == "\n" }.count == 1)
    }
}
