import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Debian's HAProxy on a loopback port: Debian's haproxy.cfg with examples/haproxy.cfg.example appended, as the
/// example says (scripts/render-haproxy moves only the port, the chroot and the log), and the daemon behind it on
/// the socket inside the chroot, in HAProxy's group.
final class HAProxySetup {
    let directory: String
    let port: UInt16
    let program: SocketProgram
    let haproxy: ServerProcess

    init() throws {
        try requireTool("/usr/sbin/haproxy", package: "haproxy")
        let directory = try makeServerDirectory("haproxy")
        self.directory = directory
        let binary = try installBinary(in: directory)
        program = try SocketProgram(
            directory: directory, binary: binary, arguments: ["serve", "--workers", "2", "--threads", "8"],
            group: runsAsRoot ? "haproxy" : "www-data")
        let socket = program.socketPath
        (haproxy, port) = try ServerProcess.startOnFreePort(
            render: { try runScript("render-haproxy", [directory, String($0), socket]) },
            start: { try ServerProcess("haproxy", "/usr/sbin/haproxy", ["-db", "-f", directory + "/haproxy.cfg"]) })
    }

    /// HAProxy's access log: the rendered global section sends it to HAProxy's stdout.
    var accessLogFile: String { haproxy.process.directory + "/stdout" }

    /// Everything HAProxy wrote: its access log and its own messages.
    var log: String { readText(accessLogFile) + String(decoding: haproxy.process.stderr, as: UTF8.self) }

    deinit {
        haproxy.stop()
        program.server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension ServerSuites {
    @Suite struct HAProxyTests {
        @Test func trickyQueriesAnswerTheExactRedirect() throws {
            let setup = try HAProxySetup()
            try Callbacks.expectExactRedirects(port: setup.port, queries: Callbacks.asciiQueries)
        }

        /// HAProxy 2.6.12 lets a Location that follows Status turn the answer into a 302 (its bug #2865). The program
        /// writes Location first; if that order ever flips back, this fails. The status line is checked as raw bytes.
        @Test func locationBeforeStatusKeepsThe307() throws {
            let setup = try HAProxySetup()
            let target = bytes("/oauth_callback/oura?code=a%2Bb&state=s%3D")
            for body in [nil, bytes("code=in-the-body&state=x")] {
                let response = try HTTPClient.exchange(
                    HTTPClient.request(body == nil ? "GET" : "POST", target, body: body), port: setup.port)
                #expect(response.raw.starts(with: bytes("HTTP/1.1 307 Temporary Redirect\r\n")), "\(response)")
                #expect(response.values(of: "Location") == [bytes(Callbacks.production + "oura?code=a%2Bb&state=s%3D")])
            }
        }

        /// HAProxy refuses a raw byte 0x80 and above, and a raw control byte, in the request line itself: its own 400,
        /// before the program sees anything. DEL (0x7F) it lets through, and the program answers 400.
        @Test func rawBytesAreRefusedByHAProxyItself() throws {
            let setup = try HAProxySetup()
            let refusedByHAProxy: [[UInt8]] = [
                Callbacks.rawByteQuery, bytes("code=a") + [0x01] + bytes("b"), bytes("code=a\tb"),
            ]
            for query in refusedByHAProxy {
                for method in ["GET", "POST"] {
                    let response = try HTTPClient.exchange(
                        HTTPClient.request(method, bytes("/oauth_callback/oura?") + query, body: bytes("a=1")),
                        port: setup.port)
                    #expect(response.statusLine == "HTTP/1.1 400 Bad request", "\(query)\n\(response)")
                    #expect(response.value(of: "Location") == nil)
                }
            }
            let delete = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?code=a") + [0x7F] + bytes("b")), port: setup.port)
            #expect(delete.statusLine == "HTTP/1.1 400 Bad Request", "\(delete)")
            #expect(String(decoding: delete.body, as: UTF8.self) == "Malformed OAuth callback.\n")
            // The program's line for the DEL comes after any line a refused request would have left.
            let line = "method=GET provider=oura status=400 target=production-us query_bytes=8"
            try waitForLog(containing: line, in: { setup.program.log })
            #expect(!setup.program.log.contains("method=POST"), "\(setup.program.log)")
        }

        /// States of 4, 8 and 16 KB. HAProxy's tune.bufsize (16384 by default) holds the FastCGI parameters, which
        /// carry the query twice, with the request's header fields: with the tests' three, a 7,910-byte state (a
        /// 7,926-byte query) is the largest that passes, and one byte more is answered 500 by HAProxy without reaching
        /// the program. From a 15,166-byte state on, the request itself does not fit (tune.bufsize less
        /// tune.maxrewrite): 400.
        @Test func stateSizesAreCappedByTheBuffer() throws {
            let setup = try HAProxySetup()
            let small = Callbacks.stateQuery(size: 4096)
            let response = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?") + small), port: setup.port)
            Callbacks.expectRedirect(response, to: bytes(Callbacks.production + "oura?") + small, "a 4 KB state")
            try Callbacks.expectStateBoundary(port: setup.port, largest: 7910, status: 500)
            for (size, status) in [(8192, 500), (15_165, 500), (15_166, 400), (16384, 400)] {
                let refused = try HTTPClient.exchange(
                    HTTPClient.request("GET", bytes("/oauth_callback/oura?") + Callbacks.stateQuery(size: size)),
                    port: setup.port)
                #expect(refused.status == status, "a \(size)-byte state\n\(refused)")
                #expect(refused.value(of: "Location") == nil)
            }
            try waitForLog(containing: "\" 400 ", in: { readText(setup.accessLogFile) })
            try waitForLog(containing: "query_bytes=7926", in: { setup.program.log })
            for refusedBytes in [7927, 8208, 15181] {
                #expect(!setup.program.log.contains("query_bytes=\(refusedBytes)"), "\(setup.program.log)")
            }
        }

        /// The table's bad paths are the program's 404s, except a decoded LF: the example's path-info regex does not
        /// match it, and HAProxy answers 500 itself. So does an encoded NUL. Nothing is injected either way.
        /// Issue 19: reachability, the trailing slash, error and iss callbacks, through the example as shipped.
        @Test func reachabilityTrailingSlashAndProviderCallbacks() throws {
            let setup = try HAProxySetup()
            try Callbacks.expectReachabilityAndProviderCallbacks(port: setup.port)
        }

        @Test func badPathsAreRefused() throws {
            let setup = try HAProxySetup()
            let lineFeeds = Callbacks.badPaths.filter { $0.target.contains("%0a") }
            try Callbacks.expectRefusals(
                port: setup.port, paths: Callbacks.badPaths.filter { !$0.target.contains("%0a") })
            for (label, target) in lineFeeds + [("encoded LF", "/oauth_callback/a%0ab?code=1")]
                + [("encoded NUL", "/oauth_callback/oura%00?code=1")]
            {
                let response = try HTTPClient.exchange(HTTPClient.request("GET", bytes(target)), port: setup.port)
                #expect(response.status == 500, "\(label)\n\(response)")
                #expect(response.value(of: "Location") == nil)
                Callbacks.expectOnlyExpectedHeaders(response, label)
            }
            // HAProxy does not remove dot segments: PATH_INFO is /../oauth_callback/oura, a 404.
            let dots = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/../oauth_callback/oura?code=1")), port: setup.port)
            #expect(dots.status == 404, "\(dots)")
        }

        @Test func otherMethodsAnswer405() throws {
            let setup = try HAProxySetup()
            try Callbacks.expectMethodNotAllowed(port: setup.port)
        }

        /// One HAProxy, two fcgi-apps, two targets: set-param OAUTH_FORWARD_TARGET per application.
        @Test func eachPathReachesItsOwnTarget() throws {
            let setup = try HAProxySetup()
            try Callbacks.expectPerRequestTargets(port: setup.port)
        }

        /// The example's log-format writes the path, never the query, for the callbacks and for the requests HAProxy
        /// answers itself; the program logs only the query's length.
        @Test func queryStaysOutOfTheLogs() throws {
            let setup = try HAProxySetup()
            let response = try HTTPClient.exchange(HTTPClient.request("GET", Callbacks.secretTarget), port: setup.port)
            #expect(response.status == 307)
            let bare = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback?code=SECRETCODE")), port: setup.port)
            #expect(bare.status == 404)
            let invalid = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?code=SECRETCODE&state=") + [0xFF]),
                port: setup.port)
            #expect(invalid.status == 400)

            try waitForLog(containing: "\"<BADREQ> <BADREQ> <BADREQ>\" 400", in: { readText(setup.accessLogFile) })
            #expect(setup.log.contains("\"GET /oauth_callback/oura HTTP/1.1\" 307"), "\(setup.log)")
            #expect(setup.log.contains("\"GET /oauth_callback HTTP/1.1\" 404"), "\(setup.log)")
            try waitForLog(containing: Callbacks.secretTargetLogLine, in: { setup.program.log })
            #expect(!setup.log.contains("SECRET"), "HAProxy's log holds the query:\n\(setup.log)")
            #expect(!setup.program.log.contains("SECRET"))
        }
    }
}
