import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built binary as a plain CGI script: the environment in, the answer on stdout, the log line on stderr.
@Suite struct CGIModeTests {
    static let sandboxOura = "https://api.sandbox.us.junction.com/v2/link/connect/oura"

    static func cgiEnvironment(
        method: String = "GET", path: String = "/oura", query: [UInt8], extra: [(String, [UInt8])] = [],
        target: String? = "sandbox-us"
    ) -> [(String, [UInt8])] {
        var environment: [(String, [UInt8])] = [
            ("GATEWAY_INTERFACE", bytes("CGI/1.1")), ("REQUEST_METHOD", bytes(method)),
            ("PATH_INFO", bytes(path)), ("QUERY_STRING", query), ("SCRIPT_NAME", bytes("/oauth_callback")),
        ]
        if let target { environment.append(("OAUTH_FORWARD_TARGET", bytes(target))) }
        return environment + extra
    }

    @Test(arguments: [
        bytes("code=abc123&state=xyz"), bytes("code=a+b%2B%20c&state=x%2Fy=="), bytes("a=1&a=2&b=&=c"),
        bytes("state=") + [0x80, 0xC3, 0x28, 0xFE, 0xFF], bytes("code=" + String(repeating: "x", count: 8192)),
    ])
    func answersTheExactRedirect(query: [UInt8]) throws {
        let finished = try ChildProcess.run(Binary.path, environment: Self.cgiEnvironment(query: query))
        let expected = Daemon.redirect(to: bytes(Self.sandboxOura + "?") + query)
        #expect(finished.status == 0)
        #expect(finished.stdout == expected)
    }

    @Test func logsOneLineWithoutTheQuery() throws {
        let finished = try ChildProcess.run(
            Binary.path, environment: Self.cgiEnvironment(query: bytes("code=SECRETCODE&state=SECRETSTATE")))
        #expect(
            finished.stderrText
                == "app=oauth-forward-cgi method=GET provider=oura status=307 target=sandbox-us query_bytes=33\n")
    }

    @Test func missingTargetAnswers500AndSaysWhy() throws {
        let finished = try ChildProcess.run(
            Binary.path, environment: Self.cgiEnvironment(query: bytes("code=SECRET"), target: nil))
        #expect(finished.stdoutText.hasPrefix("Status: 500 Internal Server Error\r\n"))
        #expect(!finished.stdoutText.contains("Location"))
        #expect(finished.stderrText.contains("OAUTH_FORWARD_TARGET is not set"))
        #expect(finished.stderrText.contains("sandbox-us, sandbox-eu, production-us, production-eu"))
        #expect(!finished.stderrText.contains("SECRET"))
    }

    @Test func allowlistFromTheEnvironmentIsEnforced() throws {
        let allow = [("OAUTH_FORWARD_PROVIDERS", bytes("fitbit"))]
        let refused = try ChildProcess.run(Binary.path, environment: Self.cgiEnvironment(query: [], extra: allow))
        #expect(refused.stdoutText.hasPrefix("Status: 404 Not Found\r\n"))
        let allowed = try ChildProcess.run(
            Binary.path, environment: Self.cgiEnvironment(path: "/fitbit", query: bytes("code=1"), extra: allow))
        #expect(allowed.stdoutText.contains("\r\nStatus: 307 Temporary Redirect\r\n"))
        let reachable = try ChildProcess.run(
            Binary.path, environment: Self.cgiEnvironment(path: "/fitbit", query: [], extra: allow))
        #expect(reachable.stdout == Daemon.reachability(of: "fitbit"))
    }

    /// A GET or HEAD without a query is a reachability check: 200, a short text, nothing forwarded, in every mode.
    @Test(arguments: [
        [("OAUTH_FORWARD_TARGET", bytes("sandbox-us"))],
        [("OAUTH_FORWARD_TARGET", bytes("https://auth.example.com/cb/{provider}"))],
        [("OAUTH_FORWARD_TARGET", bytes("auto")), ("OAUTH_FORWARD_ENVIRONMENTS", bytes("sandbox-us"))],
        [
            ("OAUTH_FORWARD_TARGET", bytes("auto")), ("OAUTH_FORWARD_ENVIRONMENTS", bytes("sandbox-us")),
            ("OAUTH_FORWARD_FALLBACK", bytes("https://app.example.com/cb")),
        ],
    ])
    func aQuerylessGetOrHeadIsAReachabilityCheck(settings: [(String, [UInt8])]) throws {
        for head in [false, true] {
            let finished = try ChildProcess.run(
                Binary.path,
                environment: Self.cgiEnvironment(method: head ? "HEAD" : "GET", query: [], extra: settings, target: nil)
            )
            #expect(finished.status == 0)
            #expect(finished.stdout == Daemon.reachability(of: "oura", head: head), "\(finished.stdoutText)")
            #expect(finished.stderrText.hasSuffix(" query_bytes=0 route=reachability\n"), "\(finished.stderrText)")
        }
        // A form_post callback has no query: a POST is forwarded.
        let post = try ChildProcess.run(
            Binary.path, environment: Self.cgiEnvironment(method: "POST", query: [], extra: [("CONTENT_LENGTH", [])]))
        #expect(post.stdout == Daemon.redirect(to: bytes(Self.sandboxOura)))
    }

    /// One slash after the provider forwards to the same target, and the log says so; two are a 404.
    @Test func oneTrailingSlashIsForwardedWithoutIt() throws {
        let finished = try ChildProcess.run(
            Binary.path, environment: Self.cgiEnvironment(path: "/oura/", query: bytes("code=1&state=s")))
        #expect(finished.stdout == Daemon.redirect(to: bytes(Self.sandboxOura + "?code=1&state=s")))
        #expect(
            finished.stderrText
                == "app=oauth-forward-cgi method=GET provider=oura status=307 target=sandbox-us query_bytes=14"
                + " trailing_slash=1\n")
        for path in ["/oura//", "/oura/x"] {
            let refused = try ChildProcess.run(
                Binary.path, environment: Self.cgiEnvironment(path: path, query: bytes("code=1")))
            #expect(refused.stdoutText.hasPrefix("Status: 404 Not Found\r\n"), "\(path)")
        }
    }

    /// Apache hands a query without `=` to a CGI script as arguments (RFC 3875 4.4); they must not be read as flags.
    @Test func argumentsFromAnIsindexQueryAreIgnored() throws {
        let finished = try ChildProcess.run(
            Binary.path, ["--help"], environment: Self.cgiEnvironment(query: bytes("--help")))
        #expect(finished.stdoutText.hasPrefix("Location: \(Self.sandboxOura)?--help"))
    }

    /// A POST body is read to its end: a 1 MiB body written into a pipe only completes if the program drains it.
    @Test func postBodyIsDrained() throws {
        let body = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
        var pipe = try Pipe()
        let child = try ChildProcess(
            Binary.path,
            environment: Self.cgiEnvironment(
                method: "POST", query: bytes("x=1"),
                extra: [
                    ("CONTENT_LENGTH", bytes(String(body.count))),
                    ("CONTENT_TYPE", bytes("application/x-www-form-urlencoded")),
                ]),
            stdinFD: pipe.read.raw)
        pipe.read.close()
        let written = writeAll(body, to: pipe.write.raw)
        pipe.write.close()
        #expect(child.wait(timeout: 10) == 0)
        #expect(written == body.count)
        #expect(String(decoding: child.stdout, as: UTF8.self).contains("\r\nStatus: 307 Temporary Redirect\r\n"))
    }

    @Test func headAnswersWithoutBody() throws {
        let finished = try ChildProcess.run(
            Binary.path, environment: Self.cgiEnvironment(method: "HEAD", path: "/Bad", query: []))
        #expect(finished.stdoutText.hasPrefix("Status: 404 Not Found\r\n"))
        #expect(finished.stdoutText.hasSuffix("\r\n\r\n"))
    }

    @Test func withoutACGIEnvironmentItPrintsUsageAndExits2() throws {
        let finished = try ChildProcess.run(Binary.path, environment: [("PATH", bytes("/usr/bin:/bin"))])
        #expect(finished.status == 2)
        #expect(finished.stdout.isEmpty)
        #expect(finished.stderrText.contains("OAUTH_FORWARD_TARGET"))
        #expect(finished.stderrText.contains("usage") || finished.stderrText.contains("Run it from a web server"))
    }

    @Test func helpAndVersionGoToStdout() throws {
        let help = try ChildProcess.run(Binary.path, ["--help"], environment: [])
        #expect(help.status == 0)
        #expect(help.stdoutText.contains("OAUTH_FORWARD_TARGET"))
        let version = try ChildProcess.run(Binary.path, ["--version"], environment: [])
        #expect(version.status == 0)
        #expect(version.stdoutText.hasPrefix("oauth-forward-cgi "))
        // A mistyped flag is a usage error (EX_USAGE, 64) that says what was wrong, and starts nothing.
        let unknown = try ChildProcess.run(Binary.path, ["--frobnicate"], environment: [])
        #expect(unknown.status == 64)
        #expect(unknown.stdout.isEmpty)
        #expect(unknown.stderrText.contains("--frobnicate"))
    }
}
