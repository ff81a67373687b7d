import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The three blocks of examples/lighttpd.conf.example, each a way lighttpd runs the program.
enum LighttpdMode: String, CaseIterable, CustomTestStringConvertible {
    case fastCGISpawn = "fastcgi-spawn"
    case fastCGIConnect = "fastcgi-connect"
    case cgi

    var testDescription: String { rawValue }
}

/// Debian's lighttpd in the foreground on a loopback port: Debian's lighttpd.conf with the example in place of
/// conf-enabled, one block switched on (scripts/render-lighttpd moves only the port, the sockets, the logs and the
/// binary), and for fastcgi-connect the daemon behind it on a socket in www-data's group.
final class LighttpdSetup {
    let mode: LighttpdMode
    let directory: String
    let port: UInt16
    let program: SocketProgram?
    let lighttpd: ServerProcess

    init(_ mode: LighttpdMode) throws {
        try requireTool("/usr/sbin/lighttpd", package: "lighttpd")
        self.mode = mode
        let directory = try makeServerDirectory("lighttpd")
        self.directory = directory
        let binary = try installBinary(in: directory)
        program =
            mode == .fastCGIConnect
            ? try SocketProgram(
                directory: directory, binary: binary, arguments: ["serve", "--workers", "2", "--threads", "8"])
            : nil
        let socket = program?.socketPath ?? directory + "/oauth-forward-cgi.sock"
        (lighttpd, port) = try ServerProcess.startOnFreePort(
            render: { try runScript("render-lighttpd", [directory, String($0), mode.rawValue, binary, socket]) },
            start: { try ServerProcess("lighttpd", "/usr/sbin/lighttpd", ["-D", "-f", directory + "/lighttpd.conf"]) },
            diagnostics: { readText(directory + "/logs/error.log") })
    }

    func log(_ name: String) -> String { readText(directory + "/logs/" + name) }

    /// Where the program's log line lands: lighttpd hands its own stderr to the programs it starts (the journal
    /// under systemd), and spawn-fcgi its own to the daemon.
    var programLog: String {
        program?.log ?? String(decoding: lighttpd.process.stderr, as: UTF8.self)
    }

    deinit {
        lighttpd.stop()
        program?.server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension ServerSuites {
    @Suite struct LighttpdTests {
        /// With the example's server.http-parseopts, the whole table passes byte for byte, raw 0x80 to 0xFF included.
        @Test(arguments: LighttpdMode.allCases)
        func trickyQueriesAnswerTheExactRedirect(mode: LighttpdMode) throws {
            let setup = try LighttpdSetup(mode)
            try Callbacks.expectExactRedirects(port: setup.port)
            // Raw characters that Debian's normalisation would escape, and escapes it would decode or upper-case.
            let query = bytes("code=%3a%7E%2F%6f|^{}`'&state=%2B%3D%3d")
            let response = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?") + query), port: setup.port)
            Callbacks.expectRedirect(response, to: bytes(Callbacks.production + "oura?") + query, "unnormalised")
        }

        /// server.max-request-field-size in the example: lighttpd's default, 8192 bytes for the request line and
        /// headers together, answers 431 once a browser's headers come with a long query.
        @Test(arguments: LighttpdMode.allCases)
        func eightKilobyteQueryPasses(mode: LighttpdMode) throws {
            let setup = try LighttpdSetup(mode)
            let query = bytes("code=c0de&state=") + [UInt8](repeating: UInt8(ascii: "s"), count: 8000)
            let browserHeaders = ["Cookie: session=" + String(repeating: "c", count: 1000)]
            let response = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?") + query, headers: browserHeaders),
                port: setup.port)
            Callbacks.expectRedirect(response, to: bytes(Callbacks.production + "oura?") + query, "an 8 KB query")
        }

        /// States of 4, 8 and 16 KB. The example's server.max-request-field-size caps the request line and headers
        /// together at 16384 bytes: the 16 KB state is lighttpd's own 431. With the three header fields the tests
        /// send, a 16,257-byte state (a 16,273-byte query) makes a request head of exactly 16384 bytes and passes.
        @Test(arguments: LighttpdMode.allCases)
        func stateSizes(mode: LighttpdMode) throws {
            let setup = try LighttpdSetup(mode)
            try Callbacks.expectStateSizes(port: setup.port, refusedFrom: 16384, status: 431)
            let head = HTTPClient.request("GET", bytes("/oauth_callback/oura?") + Callbacks.stateQuery(size: 16257))
            #expect(head.count == 16384)
            try Callbacks.expectStateBoundary(port: setup.port, largest: 16257, status: 431)
        }

        /// The table's bad paths are the program's 404s. lighttpd turns a decoded control byte in the path into "_"
        /// before the program sees it, so `a%0ab` arrives as the provider `a_b`: pinned, as the docs say.
        @Test(arguments: LighttpdMode.allCases)
        func badPathsAreRefused(mode: LighttpdMode) throws {
            let setup = try LighttpdSetup(mode)
            // lighttpd folds "//" in the path before the program sees it, so /oura// arrives as /oura/ and is
            // forwarded: pinned here as the open point of issue 19 for lighttpd (docs/WEB-SERVERS.md).
            try Callbacks.expectRefusals(
                port: setup.port, paths: Callbacks.badPaths.filter { !$0.target.contains("//?") })
            let folded = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura//?code=1")), port: setup.port)
            Callbacks.expectRedirect(folded, to: bytes(Callbacks.production + "oura?code=1"), "oura// folded")
            for (target, provider) in [
                ("/oauth_callback/a%0ab?code=1", "a_b"), ("/oauth_callback/oura%00?code=1", "oura_"),
            ] {
                let response = try HTTPClient.exchange(HTTPClient.request("GET", bytes(target)), port: setup.port)
                Callbacks.expectRedirect(response, to: bytes(Callbacks.production + provider + "?code=1"), target)
            }
        }

        /// A raw control byte in the query reaches the program, which answers 400; other methods get its 405.
        @Test(arguments: LighttpdMode.allCases)
        func controlBytesAndOtherMethodsAreRefused(mode: LighttpdMode) throws {
            let setup = try LighttpdSetup(mode)
            for control: UInt8 in [0x01, 0x09, 0x7F] {
                let response = try HTTPClient.exchange(
                    HTTPClient.request("GET", bytes("/oauth_callback/oura?code=a") + [control] + bytes("b")),
                    port: setup.port)
                #expect(response.statusLine == "HTTP/1.1 400 Bad Request", "\(control)\n\(response)")
                #expect(String(decoding: response.body, as: UTF8.self) == "Malformed OAuth callback.\n")
            }
            try Callbacks.expectMethodNotAllowed(port: setup.port)
        }

        /// One lighttpd, two url conditions, two targets: setenv.set-environment per request, whichever block runs
        /// the program.
        @Test(arguments: LighttpdMode.allCases)
        func eachPathReachesItsOwnTarget(mode: LighttpdMode) throws {
            let setup = try LighttpdSetup(mode)
            try Callbacks.expectPerRequestTargets(port: setup.port)
        }

        /// The example's accesslog.format writes the path, never the query, for the callbacks and for the requests
        /// lighttpd answers itself; the program logs only the query's length.
        @Test(arguments: LighttpdMode.allCases)
        func queryStaysOutOfTheLogs(mode: LighttpdMode) throws {
            let setup = try LighttpdSetup(mode)
            let response = try HTTPClient.exchange(HTTPClient.request("GET", Callbacks.secretTarget), port: setup.port)
            #expect(response.status == 307)
            // Refused by lighttpd itself: 431 for a request over server.max-request-field-size.
            let oversized = try HTTPClient.exchange(
                HTTPClient.request(
                    "GET", bytes("/oauth_callback/oura?code=SECRETCODE&state=" + String(repeating: "s", count: 17000))),
                port: setup.port)
            #expect(oversized.status == 431, "\(oversized)")

            let accessLog = setup.directory + "/logs/oauth-forward-cgi.access.log"
            try waitForLog(containing: "\"GET /oauth_callback/oura HTTP/1.1\" 307", in: { readText(accessLog) })
            try waitForLog(containing: Callbacks.secretTargetLogLine, in: { setup.programLog })
            try Callbacks.expectNoSecret(inFilesOf: setup.directory + "/logs")
            #expect(!setup.programLog.contains("SECRET"))
            #expect(!String(decoding: setup.lighttpd.process.stderr, as: UTF8.self).contains("SECRET"))
        }
    }
}

extension Callbacks {
    /// The edge of a server's own limit on the query, for the server suites: a state of `largest` bytes is forwarded
    /// byte for byte, and one byte more is answered `status` by the server itself, with no Location.
    static func expectStateBoundary(
        port: UInt16, largest: Int, status: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let query = stateQuery(size: largest)
        let passing = try HTTPClient.exchange(
            HTTPClient.request("GET", bytes("/oauth_callback/oura?") + query), port: port)
        expectRedirect(
            passing, to: bytes(production + "oura?") + query, "the largest state, \(largest) bytes",
            sourceLocation: sourceLocation)
        let refused = try HTTPClient.exchange(
            HTTPClient.request("GET", bytes("/oauth_callback/oura?") + stateQuery(size: largest + 1)), port: port)
        #expect(refused.status == status, "a state of \(largest + 1) bytes\n\(refused)", sourceLocation: sourceLocation)
        #expect(refused.value(of: "Location") == nil, sourceLocation: sourceLocation)
    }
}
