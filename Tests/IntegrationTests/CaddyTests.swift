import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Debian's Caddy on a loopback port with examples/Caddyfile.example as shipped (scripts/render-caddy changes only
/// the site address, the socket, the log path, and switches the admin endpoint off), the daemon behind it.
final class CaddySetup {
    let directory: String
    let port: UInt16
    let program: SocketProgram
    let caddy: ServerProcess

    init() throws {
        try requireTool("/usr/bin/caddy", package: "caddy")
        let directory = try makeServerDirectory("caddy")
        self.directory = directory
        let binary = try installBinary(in: directory)
        let program = try SocketProgram(
            directory: directory, binary: binary, arguments: ["serve", "--workers", "2", "--threads", "8"])
        self.program = program
        // Caddy keeps its state under HOME and the XDG directories: here, not the runner's.
        let home = directory + "/home"
        (caddy, port) = try ServerProcess.startOnFreePort(
            render: { port in try runScript("render-caddy", [directory, String(port), program.socketPath]) },
            start: {
                try ServerProcess(
                    "caddy", "/usr/bin/env",
                    [
                        "HOME=\(home)", "XDG_CONFIG_HOME=\(home)", "XDG_DATA_HOME=\(home)", "/usr/bin/caddy", "run",
                        "--adapter", "caddyfile", "--config", directory + "/Caddyfile",
                    ])
            })
    }

    func log(_ name: String) -> String { readText(directory + "/logs/" + name) }

    /// Caddy's own log: its stderr, filtered by the example's global `log` option.
    var ownLog: String { String(decoding: caddy.process.stderr, as: UTF8.self) }

    deinit {
        caddy.stop()
        program.server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension ServerSuites {
    @Suite struct CaddyTests {
        /// The table, `%2B`, `%3D` and raw 0xFF included, through GET, HEAD and POST: exactly the program's answer.
        /// The example's `header_down -Status` is what keeps Caddy's copy of the CGI Status line out of it.
        @Test func trickyQueriesAnswerTheExactRedirect() throws {
            let setup = try CaddySetup()
            try Callbacks.expectExactRedirects(port: setup.port)
        }

        /// No setting in the example: Go's server takes request headers up to 1 MB.
        @Test func eightKilobyteQueryPasses() throws {
            let setup = try CaddySetup()
            let query = bytes("code=c0de&state=") + [UInt8](repeating: UInt8(ascii: "s"), count: 8000)
            let response = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?") + query), port: setup.port)
            Callbacks.expectRedirect(response, to: bytes(Callbacks.production + "oura?") + query, "an 8 KB query")
        }

        /// States of 4, 8 and 16 KB pass as sent: Go's server takes request headers up to 1 MB (`max_header_size`).
        /// What stops a query first is Caddy's FastCGI client, which cuts each parameter to 65,500 bytes with its name
        /// and lengths: a 65,480-byte query (a 65,464-byte state) is the largest that passes, and one byte more still
        /// answers 307, with the query one byte short.
        @Test func stateSizes() throws {
            let setup = try CaddySetup()
            try Callbacks.expectStateSizes(port: setup.port)
            let largest = Callbacks.stateQuery(size: 65_464)
            #expect(largest.count == 65_480)
            let passing = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?") + largest), port: setup.port)
            Callbacks.expectRedirect(
                passing, to: bytes(Callbacks.production + "oura?") + largest, "a 65,480-byte query")
            let over = Callbacks.stateQuery(size: 65_465)
            let cut = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?") + over), port: setup.port)
            Callbacks.expectRedirect(cut, to: bytes(Callbacks.production + "oura?") + over.prefix(65_480), "cut by one")
        }

        /// Go's limit on request headers is 1 MB: a 64 KB query and 200 header fields pass. Past about 64 KB, Caddy's
        /// FastCGI client cuts QUERY_STRING short (to 65,480 bytes under this path) and the program forwards what it
        /// got: pinned, as the docs say. Callbacks are a few KB.
        @Test func largeRequests() throws {
            let setup = try CaddySetup()
            let query = bytes("state=") + [UInt8](repeating: UInt8(ascii: "s"), count: 64_000)
            let long = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?") + query), port: setup.port)
            Callbacks.expectRedirect(long, to: bytes(Callbacks.production + "oura?") + query, "a 64 KB query")
            let tooLong = bytes("state=") + [UInt8](repeating: UInt8(ascii: "s"), count: 100_000)
            let cut = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?") + tooLong), port: setup.port)
            let location = cut.value(of: "Location") ?? []
            #expect(cut.status == 307)
            #expect(location.count == Callbacks.production.utf8.count + "oura?".utf8.count + 65_480)
            #expect(location == bytes(Callbacks.production + "oura?") + tooLong.prefix(65_480))
            let fields = (0..<200).map { "X-Field-\($0): \($0)" }
            let many = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?code=1"), headers: fields), port: setup.port)
            Callbacks.expectRedirect(many, to: bytes(Callbacks.production + "oura?code=1"), "200 header fields")
        }

        /// The program's 404s, and the example's own 404 for the bare prefix and any other path. Caddy's path
        /// matcher ignores case, so an upper-case prefix reaches the program too, which still checks the provider.
        /// Issue 19: reachability, the trailing slash, error and iss callbacks, through the example as shipped.
        @Test func reachabilityTrailingSlashAndProviderCallbacks() throws {
            let setup = try CaddySetup()
            try Callbacks.expectReachabilityAndProviderCallbacks(port: setup.port)
        }

        @Test func badPathsAreRefused() throws {
            let setup = try CaddySetup()
            try Callbacks.expectRefusals(port: setup.port)
            for target in ["/oauth_callback?code=1", "/sandbox/oauth_callback?code=1", "/elsewhere?code=1"] {
                let response = try HTTPClient.exchange(HTTPClient.request("GET", bytes(target)), port: setup.port)
                #expect(response.status == 404, "\(target)\n\(response)")
            }
            // Caddy refuses an encoded NUL in the path itself.
            let nul = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura%00?code=1")), port: setup.port)
            #expect(nul.status == 400, "\(nul)")
            Callbacks.expectRefusal(nul, "encoded NUL")
            let upper = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/OAUTH_CALLBACK/oura?code=1")), port: setup.port)
            Callbacks.expectRedirect(upper, to: bytes(Callbacks.production + "oura?code=1"), "an upper-case prefix")
        }

        /// Go's HTTP server answers a raw control byte in the request line 400 itself, before Caddy or the program
        /// sees it; an encoded one reaches the program and is forwarded as it came. Other methods get the 405.
        @Test func controlBytesAndOtherMethodsAreRefused() throws {
            let setup = try CaddySetup()
            try Callbacks.expectRawControlBytesRefusedByTheServer(port: setup.port)
            try Callbacks.expectMethodNotAllowed(port: setup.port)
        }

        /// One Caddy, two handle blocks, two targets: `env OAUTH_FORWARD_TARGET` in each one's transport.
        @Test func eachPathReachesItsOwnTarget() throws {
            let setup = try CaddySetup()
            try Callbacks.expectPerRequestTargets(port: setup.port)
        }

        /// The example's filters keep the query out of the access log (the uri is cut at `?`, the Location and the
        /// Referer dropped) and out of Caddy's own log, which gets an entry when the daemon is down.
        @Test func queryStaysOutOfTheLogs() throws {
            let setup = try CaddySetup()
            let referer = ["Referer: https://provider.example/authorize?state=SECRETREFERER"]
            let response = try HTTPClient.exchange(
                HTTPClient.request("GET", Callbacks.secretTarget, headers: referer), port: setup.port)
            #expect(response.status == 307)
            let bare = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback?code=SECRETCODE")), port: setup.port)
            #expect(bare.status == 404)
            try waitForLog(containing: Callbacks.secretTargetLogLine, in: { setup.program.log })

            // With the daemon gone, Caddy answers 502 and logs an error of its own about the request.
            setup.program.server.stop()
            let failed = try HTTPClient.exchange(
                HTTPClient.request("GET", Callbacks.secretTarget, headers: referer), port: setup.port)
            #expect(failed.status == 502)
            try waitForLog(containing: "\"status\": 502", in: { setup.ownLog })

            let accessLog = setup.directory + "/logs/oauth-forward-cgi.access.log"
            try waitForLog(containing: "\"status\":502", in: { readText(accessLog) })
            let access = setup.log("oauth-forward-cgi.access.log")
            #expect(access.contains("\"uri\":\"/oauth_callback/oura\""), "\(access)")
            #expect(access.contains("\"uri\":\"/oauth_callback\""), "\(access)")
            try Callbacks.expectNoSecret(inFilesOf: setup.directory + "/logs")
            #expect(!setup.ownLog.contains("SECRET"), "Caddy's log holds the query:\n\(setup.ownLog)")
            #expect(!setup.program.log.contains("SECRET"))
        }
    }
}
