import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The ways apache.conf.example and htaccess.example run the program, each chosen with its -D name.
enum ApacheMode: String, CaseIterable, CustomTestStringConvertible {
    case cgid = "OAUTH_FORWARD_CGID"
    case fcgid = "OAUTH_FORWARD_FCGID"
    case proxyFastCGI = "OAUTH_FORWARD_PROXY_FCGI"
    case sharedHosting = "OAUTH_FORWARD_SHARED_HOSTING"

    var testDescription: String { rawValue }

    /// The modes apache.conf.example serves; shared hosting is htaccess.example alone, with one target.
    static let fromTheExample: [ApacheMode] = [.cgid, .fcgid, .proxyFastCGI]
}

/// Debian's Apache in the foreground on a loopback port, with the examples as shipped: scripts/render-apache
/// changes only the port, the socket, the log paths and the binary's path.
final class ApacheSetup {
    let mode: ApacheMode
    let directory: String
    let port: UInt16
    let program: SocketProgram?
    let apache: ServerProcess

    init(_ mode: ApacheMode) throws {
        try requireTool("/usr/sbin/apache2", package: "apache2")
        try requireTool("/usr/lib/apache2/modules/mod_fcgid.so", package: "libapache2-mod-fcgid")
        self.mode = mode
        let directory = try makeServerDirectory("apache")
        self.directory = directory
        let socket = directory + "/oauth-forward-cgi.sock"
        // mod_proxy_fcgi's program runs the binary that render-apache installs: it starts once, after the first render.
        var program: SocketProgram?
        (apache, port) = try ServerProcess.startOnFreePort(
            render: { port in
                try runScript("render-apache", [directory, String(port), socket, Binary.path])
                if mode == .proxyFastCGI && program == nil {
                    program = try SocketProgram(directory: directory, binary: directory + "/bin/oauth-forward-cgi")
                }
            },
            start: {
                try ServerProcess(
                    "apache2", "/usr/sbin/apache2",
                    ["-f", directory + "/httpd.conf", "-DFOREGROUND", "-D", mode.rawValue])
            },
            diagnostics: { readText(directory + "/logs/error.log") })
        self.program = program
    }

    func log(_ name: String) -> String { readText(directory + "/logs/" + name) }

    /// Where the program's log line lands: its stderr is Apache's main ErrorLog under mod_cgid and mod_fcgid
    /// (not the vhost's), spawn-fcgi's stderr under mod_proxy_fcgi.
    var programLog: String { mode == .proxyFastCGI ? program?.log ?? "" : log("error.log") }

    deinit {
        apache.stop()
        program?.server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension ServerSuites {
    @Suite struct ApacheTests {
        @Test(arguments: ApacheMode.allCases)
        func trickyQueriesAnswerTheExactRedirect(mode: ApacheMode) throws {
            let setup = try ApacheSetup(mode)
            try Callbacks.expectExactRedirects(port: setup.port)
        }

        /// Issue 19: reachability, the trailing slash and provider callbacks, in every mode; the sandbox path of the
        /// example too. State sizes: see stateSizes.
        @Test(arguments: ApacheMode.allCases)
        func reachabilityTrailingSlashAndProviderCallbacks(mode: ApacheMode) throws {
            let setup = try ApacheSetup(mode)
            try Callbacks.expectReachabilityAndProviderCallbacks(port: setup.port)
            if mode != .sharedHosting {
                try Callbacks.expectReachabilityAndProviderCallbacks(
                    port: setup.port, prefix: "/sandbox/oauth_callback/", location: Callbacks.sandbox)
            }
        }

        /// States of 4, 8 and 16 KB. Apache's LimitRequestLine is 8190 bytes by default: a longer request line is
        /// its own 414, so the 8 KB state (a request line of about 8,240 bytes) is refused already.
        @Test(arguments: ApacheMode.allCases)
        func stateSizes(mode: ApacheMode) throws {
            let setup = try ApacheSetup(mode)
            try Callbacks.expectStateSizes(port: setup.port, refusedFrom: 8192, status: 414)
            // Before LimitRequestLine, the answer's Location line stops it: with a state of 8,115 bytes it is 8190 bytes
            // long, and Apache answers 500 in every mode although the program wrote its 307.
            try Callbacks.expectStateBoundary(port: setup.port, largest: 8114, status: 500)
        }

        @Test(arguments: ApacheMode.allCases)
        func badPathsAreRefused(mode: ApacheMode) throws {
            let setup = try ApacheSetup(mode)
            try Callbacks.expectRefusals(port: setup.port)
        }

        /// The example's LogFormat writes the path, never the query; the program logs only the query's length.
        @Test(arguments: ApacheMode.allCases)
        func queryStaysOutOfTheLogs(mode: ApacheMode) throws {
            let setup = try ApacheSetup(mode)
            let response = try HTTPClient.exchange(HTTPClient.request("GET", Callbacks.secretTarget), port: setup.port)
            #expect(response.status == 307)
            try waitForLog(containing: Callbacks.secretTargetLogLine, in: { setup.programLog })
            #expect(!setup.programLog.contains("SECRET"))
            if mode == .sharedHosting {
                // The host's access log is the host's: in the usual "combined" format it holds the query. The README
                // says so; only the program's own line is checked here.
                return
            }
            let accessLog = setup.directory + "/logs/oauth-forward-cgi.access.log"
            try waitForLog(containing: "\"GET /oauth_callback/oura HTTP/1.1\" 307", in: { readText(accessLog) })
            for file in try FileManager.default.contentsOfDirectory(atPath: setup.directory + "/logs") {
                #expect(!setup.log(file).contains("SECRET"), "\(file) holds the query:\n\(setup.log(file))")
            }
        }

        /// htaccess.example denies oauth-forward-cgi.conf, which sits in cgi-bin beside the program, and the copies
        /// an editor or an upload leaves beside it: asked for directly, by any spelling of its path, each is refused
        /// and none of it comes back.
        @Test func sharedHostingNeverServesTheSettingsFile() throws {
            let setup = try ApacheSetup(.sharedHosting)
            let settings = setup.directory + "/htdocs/cgi-bin/oauth-forward-cgi.conf"
            let backups = ["~", ".bak", ".swp", ".orig"].map { "oauth-forward-cgi.conf" + $0 }
            for backup in backups {
                let copy = setup.directory + "/htdocs/cgi-bin/" + backup
                try FileManager.default.copyItem(atPath: settings, toPath: copy)
            }
            for target in [
                "/cgi-bin/oauth-forward-cgi.conf", "/cgi-bin/./oauth-forward-cgi.conf?x=1",
                "//cgi-bin//oauth-forward-cgi.conf",
            ] + backups.map({ "/cgi-bin/" + $0 }) {
                let response = try HTTPClient.exchange(HTTPClient.request("GET", bytes(target)), port: setup.port)
                #expect(response.status == 403, "\(target)\n\(response)")
                #expect(!String(decoding: response.raw, as: UTF8.self).contains("OAUTH_FORWARD"), "\(target)")
            }
        }

        /// One Apache, two Locations, two targets: SetEnv OAUTH_FORWARD_TARGET per Location.
        @Test(arguments: ApacheMode.fromTheExample)
        func eachPathReachesItsOwnTarget(mode: ApacheMode) throws {
            let setup = try ApacheSetup(mode)
            try Callbacks.expectPerRequestTargets(port: setup.port)
        }
    }
}
