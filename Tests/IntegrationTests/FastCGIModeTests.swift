import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The program serving FastCGI on a socket that spawn-fcgi opened and handed over as fd 0.
final class SpawnedFastCGI {
    let directory: String
    let socketPath: String
    let process: ChildProcess

    init(environment: [(String, [UInt8])] = [("OAUTH_FORWARD_TARGET", bytes("production-us"))]) throws {
        try requireTool("/usr/bin/spawn-fcgi", package: "spawn-fcgi")
        directory = try makeScratchDirectory("fcgi")
        socketPath = directory + "/fcgi.sock"
        process = try ChildProcess(
            "/usr/bin/spawn-fcgi", ["-n", "-s", socketPath, "-M", "0600", "--", Binary.path], environment: environment)
        let serving = waitUntil(timeout: .seconds(10)) {
            !process.isRunning || (try? FastCGIConnection(unixPath: socketPath)) != nil
        }
        guard serving, process.isRunning else {
            throw ChildProcessError.timedOut("spawn-fcgi: \(String(decoding: process.stderr, as: UTF8.self))")
        }
    }

    /// One request through Debian's `cgi-fcgi`, which sends its own environment as the request's parameters.
    func cgiFCGI(_ parameters: [(String, [UInt8])], body: [UInt8]? = nil) throws -> Finished {
        try requireTool("/usr/bin/cgi-fcgi", package: "libfcgi-bin")
        return try ChildProcess.run(
            "/usr/bin/cgi-fcgi", ["-bind", "-connect", socketPath], environment: parameters, stdin: body)
    }

    /// The program's own stderr.
    var log: String { String(decoding: process.stderr, as: UTF8.self) }

    deinit { process.stop() }
}

extension ServerSuites {
    @Suite struct FastCGIModeTests {
        static func parameters(
            method: String = "GET", path: String = "/oura", query: [UInt8], extra: [(String, [UInt8])] = []
        ) -> [(String, [UInt8])] {
            [
                ("GATEWAY_INTERFACE", bytes("CGI/1.1")), ("REQUEST_METHOD", bytes(method)), ("PATH_INFO", bytes(path)),
                ("QUERY_STRING", query),
            ] + extra
        }

        static let productionOura = Daemon.productionOura

        @Test(arguments: [
            bytes("code=abc123&state=xyz"), bytes("code=a+b%2B%20c&state=x%2Fy=="), bytes("a=1&a=2&b=&=c"),
            bytes("state=") + [0x80, 0xC3, 0x28, 0xFE, 0xFF], bytes("code=" + String(repeating: "x", count: 8192)),
        ])
        func answersTheExactRedirect(query: [UInt8]) throws {
            let server = try SpawnedFastCGI()
            let finished = try server.cgiFCGI(Self.parameters(query: query))
            #expect(finished.stdout == Daemon.redirect(to: Self.productionOura + bytes("?") + query))
        }

        /// The request's own parameters win over the process environment, one variable at a time.
        @Test func requestParametersWinOverTheProcessEnvironment() throws {
            let server = try SpawnedFastCGI(environment: [
                ("OAUTH_FORWARD_TARGET", bytes("production-us")), ("OAUTH_FORWARD_PROVIDERS", bytes("oura")),
            ])
            let fromProcess = try server.cgiFCGI(Self.parameters(query: bytes("c=1")))
            #expect(fromProcess.stdout == Daemon.redirect(to: Self.productionOura + bytes("?c=1")))

            let sandbox = try server.cgiFCGI(
                Self.parameters(query: bytes("c=1"), extra: [("OAUTH_FORWARD_TARGET", bytes("sandbox-eu"))]))
            #expect(
                sandbox.stdout
                    == Daemon.redirect(to: bytes("https://api.sandbox.eu.junction.com/v2/link/connect/oura?c=1"))
            )

            // The process allowlist still applies when only the target comes from the request.
            let notAllowed = try server.cgiFCGI(
                Self.parameters(path: "/fitbit", query: [], extra: [("OAUTH_FORWARD_TARGET", bytes("sandbox-eu"))]))
            #expect(notAllowed.stdoutText.hasPrefix("Status: 404 Not Found\r\n"))

            let allowed = try server.cgiFCGI(
                Self.parameters(
                    path: "/fitbit", query: bytes("c=1"), extra: [("OAUTH_FORWARD_PROVIDERS", bytes("fitbit"))]))
            #expect(
                allowed.stdout == Daemon.redirect(to: bytes("https://api.us.junction.com/v2/link/connect/fitbit?c=1")))

            let broken = try server.cgiFCGI(
                Self.parameters(query: [], extra: [("OAUTH_FORWARD_TARGET", bytes("prod"))]))
            #expect(broken.stdoutText.hasPrefix("Status: 500 Internal Server Error\r\n"))
            try waitForLog(containing: "OAUTH_FORWARD_TARGET is not a known preset", in: { server.log })
        }

        /// A GET or HEAD without a query is a reachability check; one trailing slash is forwarded without it.
        @Test func reachabilityAndATrailingSlash() throws {
            let server = try SpawnedFastCGI()
            let get = try server.cgiFCGI(Self.parameters(query: []))
            #expect(get.stdout == Daemon.reachability(of: "oura"), "\(get.stdoutText)")
            let head = try server.cgiFCGI(Self.parameters(method: "HEAD", path: "/oura/", query: []))
            #expect(head.stdout == Daemon.reachability(of: "oura", head: true), "\(head.stdoutText)")
            let auto = try server.cgiFCGI(
                Self.parameters(
                    query: [],
                    extra: [
                        ("OAUTH_FORWARD_TARGET", bytes("auto")), ("OAUTH_FORWARD_ENVIRONMENTS", bytes("production-us")),
                    ]))
            #expect(auto.stdout == Daemon.reachability(of: "oura"))
            let slash = try server.cgiFCGI(Self.parameters(path: "/oura/", query: bytes("code=1&state=s")))
            #expect(slash.stdout == Daemon.redirect(to: Self.productionOura + bytes("?code=1&state=s")))
            let two = try server.cgiFCGI(Self.parameters(path: "/oura//", query: bytes("code=1")))
            #expect(two.stdoutText.hasPrefix("Status: 404 Not Found\r\n"))
            try waitForLog(
                containing: "status=200 target=production-us query_bytes=0 route=reachability\n", in: { server.log })
            try waitForLog(
                containing: "method=HEAD provider=oura status=200 target=production-us query_bytes=0"
                    + " route=reachability trailing_slash=1\n", in: { server.log })
            try waitForLog(
                containing: "status=307 target=production-us query_bytes=14 trailing_slash=1\n", in: { server.log })
        }

        @Test func unsetTargetEverywhereAnswers500() throws {
            let server = try SpawnedFastCGI(environment: [])
            let finished = try server.cgiFCGI(Self.parameters(query: bytes("code=1")))
            #expect(finished.stdoutText.hasPrefix("Status: 500 Internal Server Error\r\n"))
            try waitForLog(containing: "OAUTH_FORWARD_TARGET is not set", in: { server.log })
        }

        /// The log line goes to the process's stderr. The request's FCGI_STDERR stays empty: nginx would file it with
        /// the request line, query and all.
        @Test func logLineGoesToTheProcessStderrWithoutTheQuery() throws {
            let server = try SpawnedFastCGI()
            let finished = try server.cgiFCGI(Self.parameters(query: bytes("code=SECRETCODE&state=SECRETSTATE")))
            #expect(finished.stderr.isEmpty)
            let expected =
                "app=oauth-forward-cgi method=GET provider=oura status=307 target=production-us query_bytes=33\n"
            _ = waitUntil(timeout: .seconds(5)) { server.log == expected }
            #expect(server.log == expected)
        }

        @Test func postWithABodyIsForwarded() throws {
            let server = try SpawnedFastCGI()
            let body = bytes("code=abc&state=" + String(repeating: "s", count: 100_000))
            let finished = try server.cgiFCGI(
                Self.parameters(
                    method: "POST", query: bytes("x=1"),
                    extra: [
                        ("CONTENT_LENGTH", bytes(String(body.count))),
                        ("CONTENT_TYPE", bytes("application/x-www-form-urlencoded")),
                    ]),
                body: body)
            #expect(finished.stdout == Daemon.redirect(to: Self.productionOura + bytes("?x=1")))
            // The loop goes on serving after a request with a body.
            let next = try server.cgiFCGI(Self.parameters(query: bytes("y=2")))
            #expect(next.stdout == Daemon.redirect(to: Self.productionOura + bytes("?y=2")))
        }

        @Test(arguments: [FastCGIRecord.authorizer, FastCGIRecord.filter])
        func roleOtherThanResponderAnswers500(role: UInt16) throws {
            let server = try SpawnedFastCGI()
            let connection = try FastCGIConnection(unixPath: server.socketPath)
            connection.send(FastCGIRecord.request(role: role, Self.parameters(query: bytes("code=1"))))
            let answer = connection.readAnswer()
            #expect(answer.ended)
            #expect(answer.stdoutText.hasPrefix("Status: 500 Internal Server Error\r\n"))
            #expect(answer.stderr.isEmpty)
            try waitForLog(containing: "reason=\"FastCGI role is not RESPONDER\"", in: { server.log })
        }

        @Test func servesManyRequestsInTurn() throws {
            let server = try SpawnedFastCGI()
            for index in 0..<100 {
                let connection = try FastCGIConnection(unixPath: server.socketPath)
                connection.send(FastCGIRecord.request(Self.parameters(query: bytes("n=\(index)"))))
                #expect(
                    connection.readAnswer().stdout == Daemon.redirect(to: Self.productionOura + bytes("?n=\(index)")))
            }
        }

        @Test(arguments: [SIGTERM, SIGINT])
        func exitsCleanlyOnSignal(signal: Int32) throws {
            let server = try SpawnedFastCGI()
            _ = try server.cgiFCGI(Self.parameters(query: bytes("code=1")))
            server.process.send(signal)
            #expect(server.process.wait(timeout: 5) == 0)
        }
    }
}
