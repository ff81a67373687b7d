import Testing

@testable import FastCGIDaemon

@Suite struct HealthProbeTests {
    static func parameters(_ request: FastCGIRequest) -> [String: String] {
        Dictionary(
            request.parameters.map {
                (String(decoding: $0.name, as: UTF8.self), String(decoding: $0.value, as: UTF8.self))
            },
            uniquingKeysWith: { first, _ in first })
    }

    /// A GET for the provider with a query of the probe's own: an empty one is a reachability check, answered 200
    /// and not forwarded. An error callback, never a code.
    @Test func sendsAGetForTheProviderWithItsOwnQuery() {
        let sent = Self.parameters(HealthProbe.request(provider: bytes("probe")))
        #expect(sent["REQUEST_METHOD"] == "GET")
        #expect(sent["PATH_INFO"] == "/probe")
        #expect(sent["QUERY_STRING"] == "error=probe&state=probe")
        #expect(sent["REQUEST_URI"] == "/oauth_callback/probe?error=probe&state=probe")
        #expect(sent["DOCUMENT_URI"] == "/oauth_callback/probe")
        #expect(!sent["QUERY_STRING", default: ""].contains("code="))
        #expect(sent.keys.allSatisfy { !$0.hasPrefix("OAUTH_FORWARD_") })
    }

    /// `--param` replaces a parameter of the same name rather than adding a second, which libfcgi would not read.
    @Test func extraParametersReplaceOrAdd() {
        let request = HealthProbe.request(
            provider: bytes("oura"),
            extra: [(bytes("PATH_INFO"), bytes("/fitbit")), (bytes("OAUTH_FORWARD_TARGET"), bytes("sandbox-us"))])
        #expect(request.parameters.filter { $0.name == bytes("PATH_INFO") }.map(\.value) == [bytes("/fitbit")])
        #expect(request.parameters.last.map { $0.name == bytes("OAUTH_FORWARD_TARGET") } == true)
    }

    @Test func only307Passes() {
        let redirect = FastCGIResponse(
            stdout: bytes("Location: https://x/probe?error=probe&state=probe\r\nStatus: 307 Temporary Redirect\r\n\r\n")
        )
        #expect(
            HealthProbe.verdict(on: redirect, after: .microseconds(412)) == .success("307 Temporary Redirect in 0.4 ms")
        )
        let error = FastCGIResponse(stdout: bytes("Status: 500 Internal Server Error\r\n\r\n"))
        let failure = HealthProbe.verdict(on: error, after: .microseconds(1250))
        #expect(failure == .failure(.status(code: 500, line: "500 Internal Server Error in 1.3 ms")))
        let found = FastCGIResponse(stdout: bytes("Location: x\r\n\r\n"))
        #expect(
            HealthProbe.verdict(on: found, after: .zero) == .failure(.status(code: 302, line: "302 Found in 0.0 ms")))
        let overloaded = FastCGIResponse(stdout: Array(redirect.stdout), protocolStatus: 2)
        #expect(HealthProbe.verdict(on: overloaded, after: .zero) == .failure(.refused(protocolStatus: 2)))
        #expect(ProbeFailure.refused(protocolStatus: 2).message.contains("FCGI_OVERLOADED"))
    }

    /// The 200 of a reachability check, and a 307 that lost or changed the query, are not a pass: only a callback
    /// forwarded byte for byte is.
    @Test(arguments: [
        "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nThis is the OAuth callback endpoint for probe.\n",
        "Status: 307 Temporary Redirect\r\n\r\n",
        "Location: https://x/probe\r\nStatus: 307 Temporary Redirect\r\n\r\n",
        "Location: https://x/probe?error=probe&state=prob\r\nStatus: 307 Temporary Redirect\r\n\r\n",
        "Location: https://x/probe?error=probe&state=probe&x=1\r\nStatus: 307 Temporary Redirect\r\n\r\n",
        "Location: https://x/probe&error=probe&state=probe\r\nStatus: 307 Temporary Redirect\r\n\r\n",
        "Status: 307 Temporary Redirect\r\n\r\nLocation: https://x/probe?error=probe&state=probe\r\n",
    ])
    func onlyA307CarryingTheQueryPasses(answer: String) {
        let verdict = HealthProbe.verdict(on: FastCGIResponse(stdout: bytes(answer)), after: .zero)
        #expect((try? verdict.get()) == nil, "\(answer)")
    }

    @Test func aLocationAnyCaseAndSpacedIsRead() {
        let answer = bytes("location:\thttps://x/p?error=probe&state=probe\r\nStatus: 307 Temporary Redirect\r\n\r\n")
        #expect(
            HealthProbe.verdict(on: FastCGIResponse(stdout: answer), after: .zero)
                == .success("307 Temporary Redirect in 0.0 ms"))
        #expect(ProbeFailure.queryNotForwarded(line: "307 x").message.contains("?error=probe&state=probe"))
    }

    /// Each failing status the daemon gives says what to check.
    @Test(arguments: [(404, "--provider"), (400, "auto"), (500, "--param OAUTH_FORWARD_TARGET=")])
    func failingStatusesSayWhatToCheck(code: Int, hint: String) {
        let message = ProbeFailure.status(code: code, line: "\(code) x in 0.1 ms").message
        #expect(message.hasPrefix("\(code) x in 0.1 ms, not 307 Temporary Redirect; "))
        #expect(message.contains(hint))
    }

    @Test(arguments: [
        (Duration.zero, "0.0"), (.microseconds(49), "0.0"), (.microseconds(50), "0.1"), (.microseconds(412), "0.4"),
        (.milliseconds(12), "12.0"), (.seconds(3), "3000.0"),
    ])
    func timesAreMillisecondsToATenth(elapsed: Duration, text: String) {
        #expect(elapsed.millisecondsWithTenths == text)
    }

    @Test func errorsNameTheAddress() {
        let socket = ListenAddress.unix(path: "/run/x.sock")
        let tcp = ListenAddress.ipv4(address: "127.0.0.1", port: 9000)
        #expect(
            HealthProbeError.cannotConnect(socket, code: 2).message
                == "cannot connect to unix:/run/x.sock: No such file or directory")
        #expect(
            HealthProbeError.timedOut(tcp, after: .milliseconds(500)).message
                == "no answer from 127.0.0.1:9000 within 0.5 s")
        #expect(HealthProbeError.closed(tcp).message.contains("--allow-from"))
        #expect(!HealthProbeError.closed(socket).message.contains("--allow-from"))
        #expect(
            HealthProbeError.unreadableAnswer(tcp, .notFastCGI(firstByte: 0x48)).message
                == "127.0.0.1:9000: it does not speak FastCGI (its first byte is 0x48, not 0x01)")
    }
}
