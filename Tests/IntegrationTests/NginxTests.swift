import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Debian's nginx on a loopback port with nginx.conf.example as shipped (scripts/render-nginx changes only the
/// port, the socket and the log paths), the program behind it as the daemon, as the example says to run it.
final class NginxSetup {
    let directory: String
    let port: UInt16
    let program: SocketProgram
    let nginx: ServerProcess

    init(
        nginxWorkers: Int = 1, daemon: [String] = ["serve", "--workers", "2", "--threads", "8"],
        upstreamKeepAlive: Bool = true
    ) throws {
        try requireTool("/usr/sbin/nginx", package: "nginx")
        let directory = try makeServerDirectory("nginx")
        self.directory = directory
        let binary = try installBinary(in: directory)
        let program = try SocketProgram(directory: directory, binary: binary, arguments: daemon)
        self.program = program
        let keepAlive = upstreamKeepAlive ? "on" : "off"
        (nginx, port) = try ServerProcess.startOnFreePort(
            render: { port in
                try runScript(
                    "render-nginx", [directory, String(port), program.socketPath, String(nginxWorkers), keepAlive])
            },
            start: {
                try ServerProcess(
                    "nginx", "/usr/sbin/nginx",
                    ["-p", directory, "-c", directory + "/nginx.conf", "-e", directory + "/logs/startup.log"])
            },
            diagnostics: { readText(directory + "/logs/error.log") })
    }

    func log(_ name: String) -> String { readText(directory + "/logs/" + name) }

    deinit {
        nginx.stop()
        program.server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension ServerSuites {
    @Suite struct NginxTests {
        @Test func trickyQueriesAnswerTheExactRedirect() throws {
            let setup = try NginxSetup()
            try Callbacks.expectExactRedirects(port: setup.port)
        }

        /// fastcgi_buffer_size and large_client_header_buffers in the example: with nginx's defaults, the 8 KB request
        /// line answers 414 and the 8 KB Location header 502.
        @Test func eightKilobyteQueryPasses() throws {
            let setup = try NginxSetup()
            let query = bytes("code=c0de&state=") + [UInt8](repeating: UInt8(ascii: "s"), count: 8000)
            let response = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura?") + query), port: setup.port)
            Callbacks.expectRedirect(response, to: bytes(Callbacks.production + "oura?") + query, "an 8 KB query")
        }

        /// Issue 19: reachability, the trailing slash, provider callbacks. The 16 KB state makes a request line over
        /// the example's large_client_header_buffers 4 16k, which nginx answers 414 itself.
        @Test func reachabilityTrailingSlashAndProviderCallbacks() throws {
            let setup = try NginxSetup()
            try Callbacks.expectReachabilityAndProviderCallbacks(port: setup.port)
            try Callbacks.expectReachabilityAndProviderCallbacks(
                port: setup.port, prefix: "/sandbox/oauth_callback/", location: Callbacks.sandbox)
            try Callbacks.expectStateSizes(port: setup.port, refusedFrom: 16384, status: 414)
            // The largest: a 16,332-byte state makes a request line of 16384 bytes with its CRLF, one whole buffer.
            try Callbacks.expectStateBoundary(port: setup.port, largest: 16332, status: 414)
        }

        @Test func badPathsAreRefused() throws {
            let setup = try NginxSetup()
            try Callbacks.expectRefusals(port: setup.port)
            // nginx refuses an encoded NUL itself, before the program sees anything.
            let nul = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/oura%00?c=1")), port: setup.port)
            #expect(nul.status == 400)
            Callbacks.expectRefusal(nul, "encoded NUL")
        }

        /// The example's own 404 for the bare prefix: without it nginx answers 301 to the prefix with a slash.
        @Test func barePrefixIsNotRedirected() throws {
            let setup = try NginxSetup()
            for target in ["/oauth_callback?code=1", "/sandbox/oauth_callback?code=1"] {
                let response = try HTTPClient.exchange(HTTPClient.request("GET", bytes(target)), port: setup.port)
                #expect(response.status == 404, "\(target)\n\(response)")
            }
        }

        /// The example's log format writes the path, never the query, and the program logs only the query's length.
        @Test func queryStaysOutOfTheLogs() throws {
            let setup = try NginxSetup()
            let response = try HTTPClient.exchange(HTTPClient.request("GET", Callbacks.secretTarget), port: setup.port)
            #expect(response.status == 307)
            // Refused by nginx itself, outside the locations: these must use the example's log too.
            let bare = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback?code=SECRETCODE")), port: setup.port)
            #expect(bare.status == 404)

            let accessLog = setup.directory + "/logs/oauth-forward-cgi.access.log"
            try waitForLog(containing: "\"GET /oauth_callback HTTP/1.1\" 404", in: { readText(accessLog) })
            #expect(setup.log("oauth-forward-cgi.access.log").contains("\"GET /oauth_callback/oura HTTP/1.1\" 307"))
            try waitForLog(containing: Callbacks.secretTargetLogLine, in: { setup.program.log })
            let files = try FileManager.default.contentsOfDirectory(atPath: setup.directory + "/logs")
            #expect(files.contains("oauth-forward-cgi.error.log"))
            for file in files {
                #expect(!setup.log(file).contains("SECRET"), "\(file) holds the query:\n\(setup.log(file))")
            }
            #expect(!setup.program.log.contains("SECRET"))
        }

        /// One nginx, two locations, two targets: fastcgi_param OAUTH_FORWARD_TARGET per location.
        @Test func eachPathReachesItsOwnTarget() throws {
            let setup = try NginxSetup()
            try Callbacks.expectPerRequestTargets(port: setup.port)
        }
    }
}
