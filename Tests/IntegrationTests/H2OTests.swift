import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The ways examples/h2o.conf.example runs the program.
enum H2OMode: String, CaseIterable, CustomTestStringConvertible {
    /// `fastcgi.connect` to the daemon's socket, as the example is written.
    case connect
    /// `fastcgi.spawn`: H2O starts `serve` itself, one per path.
    case spawn

    var testDescription: String { rawValue }
}

/// Debian's H2O on a loopback port with examples/h2o.conf.example as shipped (scripts/render-h2o changes only the
/// port, the socket, the log and pid paths and the binary's path), the daemon behind it in H2O's group, or spawned
/// by H2O.
final class H2OSetup {
    let mode: H2OMode
    let directory: String
    let port: UInt16
    let program: SocketProgram?
    let h2o: ServerProcess

    init(_ mode: H2OMode) throws {
        try requireTool("/usr/bin/h2o", package: "h2o")
        self.mode = mode
        let directory = try makeServerDirectory("h2o")
        self.directory = directory
        let binary = try installBinary(in: directory)
        program =
            mode == .connect
            ? try SocketProgram(
                directory: directory, binary: binary, arguments: ["serve", "--workers", "2", "--threads", "8"],
                group: runsAsRoot ? "debian-h2o" : "www-data")
            : nil
        (h2o, port) = try ServerProcess.startOnFreePort(
            render: { port in
                try runScript(
                    "render-h2o",
                    [directory, String(port), mode.rawValue, binary, directory + "/oauth-forward-cgi.sock"])
            },
            start: { try ServerProcess("h2o", "/usr/bin/h2o", ["-c", directory + "/h2o.conf"]) },
            diagnostics: { readText(directory + "/logs/error.log") })
    }

    func log(_ name: String) -> String { readText(directory + "/logs/" + name) }

    /// The stderr H2O was started with: the spawned program's log goes there.
    var stderrPath: String { h2o.process.directory + "/stderr" }

    /// Where the program's log lines land: spawn-fcgi's stderr, or H2O's own stderr for the program it spawned.
    var programLogPath: String { program.map { $0.server.process.directory + "/stderr" } ?? stderrPath }

    deinit {
        h2o.stop()
        program?.server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension ServerSuites {
    @Suite struct H2OTests {
        /// The table, `%2B`, `%3D` and raw 0xFF included, through GET, HEAD and POST. H2O sends the whole path as
        /// PATH_INFO; the example's OAUTH_FORWARD_PATH_PREFIX is what makes these 307s and not 404s.
        @Test(arguments: H2OMode.allCases)
        func trickyQueriesAnswerTheExactRedirect(mode: H2OMode) throws {
            let setup = try H2OSetup(mode)
            try Callbacks.expectExactRedirects(port: setup.port)
        }

        /// No setting in the example: H2O takes the 8 KB request line and the 8 KB Location back.
        @Test(arguments: H2OMode.allCases)
        func eightKilobyteQueryPasses(mode: H2OMode) throws {
            let setup = try H2OSetup(mode)
            let query = bytes("code=c0de&state=") + [UInt8](repeating: UInt8(ascii: "s"), count: 8000)
            let response = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?") + query), port: setup.port)
            Callbacks.expectRedirect(response, to: bytes(Callbacks.production + "oura?") + query, "an 8 KB query")
        }

        /// States of 4, 8 and 16 KB pass with nothing set. H2O's own limit is compiled in, H2O_MAX_REQLEN: 417,792
        /// bytes for the request line and headers together. With the tests' header fields, a 417,665-byte state (a
        /// 417,681-byte query) makes a head of exactly that size and passes; one byte more is H2O's own 400.
        @Test(arguments: H2OMode.allCases)
        func stateSizes(mode: H2OMode) throws {
            let setup = try H2OSetup(mode)
            try Callbacks.expectStateSizes(port: setup.port)
            let head = HTTPClient.request("GET", bytes("/oauth_callback/oura?") + Callbacks.stateQuery(size: 417_665))
            #expect(head.count == 8192 + 4096 * 100)
            try Callbacks.expectStateBoundary(port: setup.port, largest: 417_665, status: 400)
        }

        /// H2O takes a 100 KB query, and at most 100 header fields: 101 are its own 400.
        @Test(arguments: H2OMode.allCases)
        func requestLimits(mode: H2OMode) throws {
            let setup = try H2OSetup(mode)
            let query = bytes("state=") + [UInt8](repeating: UInt8(ascii: "s"), count: 100_000)
            let long = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?") + query), port: setup.port)
            Callbacks.expectRedirect(long, to: bytes(Callbacks.production + "oura?") + query, "a 100 KB query")
            // HTTPClient.request sends Host, Connection and User-Agent.
            for (extra, status) in [(97, 307), (98, 400)] {
                let fields = (0..<extra).map { "X-Field-\($0): \($0)" }
                let response = try HTTPClient.exchange(
                    HTTPClient.request("GET", bytes("/oauth_callback/oura?code=1"), headers: fields), port: setup.port)
                #expect(response.status == status, "\(extra + 3) header fields\n\(response)")
            }
        }

        /// H2O decodes `%00` into PATH_INFO, and libfcgi hands parameters over as C strings: the program sees the
        /// path up to the NUL, so this is forwarded to `oura`. Only the checked provider name leaves the path.
        @Test(arguments: H2OMode.allCases)
        func encodedNULEndsThePath(mode: H2OMode) throws {
            let setup = try H2OSetup(mode)
            let response = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura%00X-Injected:%20yes?code=1")), port: setup.port)
            Callbacks.expectRedirect(response, to: bytes(Callbacks.production + "oura?code=1"), "an encoded NUL")
        }

        /// The program's 404s: the prefix is stripped only in front of `/` and a provider name. H2O matches
        /// `/oauth_callback` itself too and decodes `%2f`, so those reach the program, which refuses them.
        @Test(arguments: H2OMode.allCases)
        func badPathsAreRefused(mode: H2OMode) throws {
            try Self.refusals(mode: mode)
        }

        /// Issue 19: reachability, the trailing slash, error and iss callbacks, through the example as shipped.
        @Test(arguments: H2OMode.allCases)
        func reachabilityTrailingSlashAndProviderCallbacks(mode: H2OMode) throws {
            let setup = try H2OSetup(mode)
            try Callbacks.expectReachabilityAndProviderCallbacks(port: setup.port)
        }

        static func refusals(mode: H2OMode) throws {
            let setup = try H2OSetup(mode)
            try Callbacks.expectRefusals(port: setup.port)
            for target in [
                "/oauth_callback?code=1", "/oauth_callbackoura?code=1", "/oauth_callback/oauth_callback/oura?code=1",
                "/sandbox/oauth_callback/oauth_callback/oura?code=1", "/OAUTH_CALLBACK/oura?code=1",
            ] {
                let response = try HTTPClient.exchange(HTTPClient.request("GET", bytes(target)), port: setup.port)
                #expect(response.status == 404, "\(target)\n\(response)")
                Callbacks.expectRefusal(response, target)
            }
        }

        /// H2O answers a raw control byte in the request line 400 itself, before the program sees it; an encoded one
        /// reaches the program and is forwarded as it came. Other methods get the program's 405.
        @Test(arguments: H2OMode.allCases)
        func controlBytesAndOtherMethodsAreRefused(mode: H2OMode) throws {
            let setup = try H2OSetup(mode)
            try Callbacks.expectRawControlBytesRefusedByTheServer(port: setup.port)
            try Callbacks.expectMethodNotAllowed(port: setup.port)
        }

        /// One H2O, two paths, two targets: `setenv` per path, with each path's own prefix.
        @Test(arguments: H2OMode.allCases)
        func eachPathReachesItsOwnTarget(mode: H2OMode) throws {
            let setup = try H2OSetup(mode)
            try Callbacks.expectPerRequestTargets(port: setup.port)
        }

        /// The example's access log format writes the path, never the query, and the program logs only the query's
        /// length. H2O's own error lines cut the path and query after 29 bytes, which no setting changes: for
        /// /oauth_callback/oura that keeps the query's first 8 bytes, pinned here as the docs say.
        @Test(arguments: H2OMode.allCases)
        func queryStaysOutOfTheLogs(mode: H2OMode) throws {
            let setup = try H2OSetup(mode)
            let response = try HTTPClient.exchange(
                HTTPClient.request(
                    "GET", Callbacks.secretTarget,
                    headers: ["Referer: https://provider.example/authorize?state=SECRETREFERER"]),
                port: setup.port)
            #expect(response.status == 307)
            try waitForLog(containing: Callbacks.secretTargetLogLine, in: { readText(setup.programLogPath) })
            let accessLog = setup.directory + "/logs/oauth-forward-cgi.access.log"
            try waitForLog(containing: "\"GET /oauth_callback/oura HTTP/1.1\" 307", in: { readText(accessLog) })

            if let program = setup.program {
                // With the daemon gone, H2O answers 503 itself and logs an error line about the request.
                program.server.stop()
                let failed = try HTTPClient.exchange(
                    HTTPClient.request("GET", Callbacks.secretTarget), port: setup.port)
                #expect(failed.status == 503, "\(failed)")
                try waitForLog(
                    containing: "[lib/handler/fastcgi.c] in request:/oauth_callback/oura?code=SEC...:connection failed",
                    in: { setup.log("error.log") })
            }
            try Callbacks.expectNoSecret(inFilesOf: setup.directory + "/logs")
            #expect(!readText(setup.programLogPath).contains("SECRET"))
            #expect(!readText(setup.stderrPath).contains("SECRET"))
        }
    }
}
