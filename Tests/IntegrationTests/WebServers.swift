import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The repository's top directory, where the example configs and scripts live.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// What the servers and scripts get as their whole environment: nothing from the test runner leaks in.
let serverEnvironment: [(String, [UInt8])] = [("PATH", bytes("/usr/sbin:/usr/bin:/sbin:/bin")), ("LANG", bytes("C"))]

let runsAsRoot = getuid() == 0

/// A scratch directory that the servers' unprivileged users (www-data, nobody) can enter: mkdtemp makes it 0700.
func makeServerDirectory(_ label: String) throws -> String {
    let directory = try makeScratchDirectory(label)
    chmod(directory, 0o755)
    return directory
}

/// Runs one of the project's scripts to its end and fails the test with its stderr when it fails.
func runScript(_ name: String, _ arguments: [String]) throws {
    let finished = try ChildProcess.run(
        repositoryRoot + "/scripts/" + name, arguments, environment: serverEnvironment, timeout: 30)
    try #require(finished.status == 0, "scripts/\(name) failed: \(finished.stderrText)")
}

func readText(_ path: String) -> String {
    (try? String(contentsOfFile: path, encoding: .isoLatin1)) ?? ""
}

/// A server started in a session of its own (through setsid), so that stopping it reaches every process it
/// started: workers, the cgid daemon, mod_fcgid's programs.
final class ServerProcess {
    let name: String
    let process: ChildProcess

    init(_ name: String, _ executable: String, _ arguments: [String]) throws {
        try requireTool("/usr/bin/setsid", package: "util-linux")
        self.name = name
        process = try ChildProcess("/usr/bin/setsid", [executable] + arguments, environment: serverEnvironment)
    }

    var isRunning: Bool { process.isRunning }

    /// Waits until the port accepts connections; throws with `diagnostics` when the server dies or never listens.
    func waitUntilListening(port: UInt16, timeout: Double = 15, diagnostics: () -> String) throws {
        let listening = waitUntil(timeout: .seconds(timeout), every: .milliseconds(20)) {
            !isRunning || HTTPClient.isListening(port: port)
        }
        guard listening, isRunning else {
            let output = String(decoding: process.stderr, as: UTF8.self)
            throw ChildProcessError.timedOut("\(name) on port \(port): \(output) \(diagnostics())")
        }
        // Listening, but maybe someone else: the listening socket must belong to a process of this server.
        guard ownsListener(port: port) else {
            let output = String(decoding: process.stderr, as: UTF8.self)
            throw ChildProcessError.timedOut("\(name): another process listens on \(port): \(output) \(diagnostics())")
        }
    }

    /// Whether a process in this server's session holds the socket listening on 127.0.0.1:`port`, as /proc shows.
    func ownsListener(port: UInt16) -> Bool {
        let local = "0100007F:" + String(format: "%04X", port)
        let inodes = readText("/proc/net/tcp").split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            // sl, local_address, rem_address, st (0A: LISTEN), ..., inode is the tenth.
            return fields.count > 9 && fields[1] == local && fields[3] == "0A" ? String(fields[9]) : nil
        }
        let sockets = Set(inodes.map { "socket:[\($0)]" })
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.contains { entry in
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            // After the command's closing parenthesis: state, ppid, pgrp, session.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 3, pid_t(fields[3]) == process.pid else { return false }
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(entry)/fd")) ?? []
            return descriptors.contains { descriptor in
                let target = try? FileManager.default.destinationOfSymbolicLink(
                    atPath: "/proc/\(entry)/fd/\(descriptor)")
                return target.map(sockets.contains) ?? false
            }
        }
    }

    /// SIGTERM to the whole group lets the server stop its children; whatever is left after that gets SIGKILL.
    func stop() {
        let group = process.pid
        kill(-group, SIGTERM)
        if process.wait(timeout: 10) == nil {
            kill(-group, SIGKILL)
            _ = process.wait(timeout: 5)
        }
        // Children that outlived their parent (a FastCGI program mod_fcgid started) are still in the group.
        kill(-group, SIGKILL)
    }

    deinit { stop() }
}

/// oauth-forward-cgi under spawn-fcgi on a unix socket that the web server's workers can reach: the socket in
/// `group` (www-data, or haproxy), mode 0660, the program itself as nobody, as the examples tell users to run it.
/// With `arguments` (`serve ...`) it is the daemon, serving the socket spawn-fcgi hands it on fd 0.
final class SocketProgram {
    let socketPath: String
    let server: ServerProcess

    init(
        directory: String, binary: String, arguments: [String] = [], environment: [(String, [UInt8])] = [],
        group: String = "www-data"
    ) throws {
        try requireTool("/usr/bin/spawn-fcgi", package: "spawn-fcgi")
        socketPath = directory + "/oauth-forward-cgi.sock"
        let owner = runsAsRoot ? ["-u", "nobody", "-g", "nogroup", "-G", group] : []
        server = try ServerProcess(
            "spawn-fcgi", "/usr/bin/spawn-fcgi",
            ["-n", "-s", socketPath, "-M", "0660"] + owner + ["--", binary] + arguments)
        let serving = waitUntil(timeout: .seconds(10)) {
            !server.isRunning || (try? FastCGIConnection(unixPath: socketPath)) != nil
        }
        guard serving, server.isRunning else { throw ChildProcessError.timedOut("spawn-fcgi: \(log)") }
    }

    /// The program's own log: spawn-fcgi hands the program its stderr.
    var log: String { String(decoding: server.process.stderr, as: UTF8.self) }
}

/// Copies the binary under test where unprivileged users can run it (the build directory may be private).
/// install(1) writes the copy in a process of its own: a write descriptor open in this multithreaded runner would
/// leak into a child another test forks at that moment, and executing the copy would then fail with ETXTBSY.
func installBinary(in directory: String) throws -> String {
    let path = directory + "/bin/oauth-forward-cgi"
    let finished = try ChildProcess.run(
        "/usr/bin/install", ["-D", "-m", "755", Binary.path, path], environment: serverEnvironment)
    try #require(finished.status == 0, "install failed: \(finished.stderrText)")
    chmod(directory + "/bin", 0o755)
    return path
}

/// The requests every setup must get right, and how to check the answers.
enum Callbacks {
    static let production = "https://api.us.junction.com/v2/link/connect/"
    static let sandbox = "https://api.sandbox.us.junction.com/v2/link/connect/"

    /// A state token of 7 KB, in the base64url alphabet signed tokens use.
    static let longState: [UInt8] = {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        return (0..<7 * 1024).map { alphabet[($0 * 7 + $0 / 64) % alphabet.count] }
    }()

    /// Queries that a rewrite, a decoder or a client would change. Each must come out in `Location` unchanged.
    static let queries: [(label: String, query: [UInt8])] = [
        ("plain", bytes("code=abc123&state=xyz")),
        ("plus and encoded plus, space, slash", bytes("code=a+b%2B%20c&state=x%2Fy==")),
        ("encoded delimiters, lower and upper hex", bytes("code=%3A%3a%2F%3F%23%25%26&state=%7E~")),
        ("duplicate keys and empty values", bytes("a=1&a=2&b=&=c&&d")),
        ("raw bytes 0x80 and above", bytes("state=") + [0x80, 0xC3, 0x28, 0xFE, 0xFF]),
        ("a 7 KB state token", bytes("code=c0de&state=") + longState),
        ("no query at all", []),
    ]

    /// Paths that must never produce a redirect. Each one carries a query, to see that none of it is echoed.
    static let badPaths: [(label: String, target: String)] = [
        ("encoded slash", "/oauth_callback/ou%2fra?code=1"),
        ("encoded LF trying to add a header", "/oauth_callback/oura%0aX-Injected:%20yes?code=1"),
        ("encoded CR trying to add a header", "/oauth_callback/oura%0dX-Injected:%20yes?code=1"),
        ("encoded CR LF trying to add a header", "/oauth_callback/oura%0d%0aX-Injected:%20yes?code=1"),
        ("encoded question mark", "/oauth_callback/oura%3fcode=1"),
        ("upper case", "/oauth_callback/OURA?code=1"),
        ("missing provider", "/oauth_callback/?code=1"),
        ("missing provider and slash", "/oauth_callback?code=1"),
        ("two trailing slashes", "/oauth_callback/oura//?code=1"),
        ("a second segment", "/oauth_callback/oura/x?code=1"),
        ("a second segment after a slash", "/oauth_callback/oura/x/?code=1"),
        ("65 characters", "/oauth_callback/" + String(repeating: "a", count: 65) + "?code=1"),
    ]

    /// Header fields a server or the program may send with an answer. Anything else came from the request.
    static let expectedHeaderNames: Set<String> = [
        "date", "server", "connection", "content-length", "content-type", "transfer-encoding", "location",
        "cache-control", "referrer-policy", "x-content-type-options",
        // lighttpd's on a 200.
        "accept-ranges",
    ]

    /// The 307 to exactly `location`, with the fields that keep the code out of caches and referrers.
    static func expectRedirect(
        _ response: HTTPResponse, to location: [UInt8], _ comment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(
            response.statusLine == "HTTP/1.1 307 Temporary Redirect", "\(comment)\n\(response)",
            sourceLocation: sourceLocation)
        #expect(response.values(of: "Location") == [location], "\(comment)", sourceLocation: sourceLocation)
        #expect(response.value(of: "Cache-Control") == bytes("no-store"), "\(comment)", sourceLocation: sourceLocation)
        #expect(
            response.value(of: "Referrer-Policy") == bytes("no-referrer"), "\(comment)",
            sourceLocation: sourceLocation)
        #expect(response.bodyIsEmpty, "\(comment)", sourceLocation: sourceLocation)
        expectOnlyExpectedHeaders(response, comment, sourceLocation: sourceLocation)
    }

    /// A 4xx, no Location, and no header field the request could have put there.
    static func expectRefusal(
        _ response: HTTPResponse, _ comment: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect((400..<500).contains(response.status), "\(comment)\n\(response)", sourceLocation: sourceLocation)
        #expect(response.value(of: "Location") == nil, "\(comment)", sourceLocation: sourceLocation)
        expectOnlyExpectedHeaders(response, comment, sourceLocation: sourceLocation)
    }

    static func expectOnlyExpectedHeaders(
        _ response: HTTPResponse, _ comment: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let unexpected = response.headerNames.filter { !expectedHeaderNames.contains($0) }
        #expect(
            unexpected.isEmpty, "\(comment): unexpected header fields \(unexpected)", sourceLocation: sourceLocation)
        #expect(
            !response.headers.contains { String(decoding: $0.value, as: UTF8.self).contains("X-Injected") },
            "\(comment)", sourceLocation: sourceLocation)
    }

    /// Every tricky query through GET, HEAD and POST with a form body. Without a query, a GET or HEAD is a
    /// reachability check (200), and a POST, a form_post callback, is forwarded.
    static func expectExactRedirects(
        port: UInt16, prefix: String = "/oauth_callback/oura", queries: [(label: String, query: [UInt8])] = queries
    ) throws {
        for (label, query) in queries {
            let target = bytes(prefix) + (query.isEmpty ? [] : bytes("?") + query)
            let location = bytes(production + "oura") + (query.isEmpty ? [] : bytes("?") + query)
            for method in ["GET", "HEAD", "POST"] {
                let body = method == "POST" ? bytes("code=in-the-body&state=") + longState.prefix(100) : nil
                let response = try HTTPClient.exchange(HTTPClient.request(method, target, body: body), port: port)
                if query.isEmpty && method != "POST" {
                    expectReachability(response, head: method == "HEAD", "\(method) with \(label)")
                } else {
                    expectRedirect(response, to: location, "\(method) with \(label)")
                }
            }
        }
    }

    /// The body of the answer to a reachability check for `provider`, written out here independently.
    static func reachabilityText(of provider: String) -> String {
        "This is the OAuth callback endpoint for \(provider).\n"
    }

    /// The 200 to a reachability check: the short fixed text (none for HEAD), never a Location, never cached.
    static func expectReachability(
        _ response: HTTPResponse, head: Bool, provider: String = "oura", _ comment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.statusLine == "HTTP/1.1 200 OK", "\(comment)\n\(response)", sourceLocation: sourceLocation)
        #expect(response.value(of: "Location") == nil, "\(comment)", sourceLocation: sourceLocation)
        #expect(response.value(of: "Cache-Control") == bytes("no-store"), "\(comment)", sourceLocation: sourceLocation)
        #expect(
            response.value(of: "Content-Type") == bytes("text/plain; charset=utf-8"), "\(comment)",
            sourceLocation: sourceLocation)
        let text = reachabilityText(of: provider)
        if head {
            #expect(response.bodyIsEmpty, "\(comment)", sourceLocation: sourceLocation)
        } else {
            // Some servers chunk it: the text is there, whole.
            #expect(
                String(decoding: response.body, as: UTF8.self).contains(text), "\(comment)\n\(response)",
                sourceLocation: sourceLocation)
        }
        expectOnlyExpectedHeaders(response, comment, sourceLocation: sourceLocation)
    }

    /// Callbacks that providers send, each forwarded byte for byte: an error callback, RFC 9207's `iss`.
    static let providerQueries: [(label: String, query: [UInt8])] = [
        (
            "an error callback",
            bytes("error=access_denied&error_description=The+user+denied&state=") + longState.prefix(64)
        ),
        ("RFC 9207's iss", bytes("code=c0de&state=xyz&iss=https%3A%2F%2Fprovider.example")),
    ]

    /// Issue 19 through a server with its example config as shipped: HEAD and GET reachability, a callback with
    /// one trailing slash (forwarded without it), an error callback and `iss` byte for byte, and two slashes or a
    /// segment after the slash refused.
    static func expectReachabilityAndProviderCallbacks(
        port: UInt16, prefix: String = "/oauth_callback/", location: String = production
    ) throws {
        for method in ["GET", "HEAD"] {
            for path in ["oura", "oura/"] {
                let response = try HTTPClient.exchange(HTTPClient.request(method, bytes(prefix + path)), port: port)
                expectReachability(response, head: method == "HEAD", "\(method) \(prefix + path) without a query")
            }
        }
        for (label, query) in providerQueries {
            for path in ["oura", "oura/"] {
                let response = try HTTPClient.exchange(
                    HTTPClient.request("GET", bytes(prefix + path + "?") + query), port: port)
                expectRedirect(response, to: bytes(location + "oura?") + query, "\(label) to \(prefix + path)")
            }
        }
        for path in ["oura//", "oura/x", "oura/x/"] {
            let response = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes(prefix + path + "?code=1&state=s")), port: port)
            expectRefusal(response, "\(prefix + path)")
            #expect(response.status == 404, "\(prefix + path)\n\(response)")
        }
    }

    /// A callback whose state is `size` bytes long.
    static func stateQuery(size: Int) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        return bytes("code=c0de&state=") + (0..<size).map { alphabet[($0 * 7 + $0 / 64) % alphabet.count] }
    }

    /// States of 4, 8 and 16 KB: forwarded byte for byte, or, from `refusedFrom` on, the server's own `status`.
    static func expectStateSizes(
        port: UInt16, path: String = "/oauth_callback/oura", refusedFrom: Int? = nil, status: Int = 0
    ) throws {
        for size in [4096, 8192, 16384] {
            let query = stateQuery(size: size)
            let response = try HTTPClient.exchange(HTTPClient.request("GET", bytes(path + "?") + query), port: port)
            if let refusedFrom, size >= refusedFrom {
                #expect(response.status == status, "a \(size)-byte state\n\(response)")
                #expect(response.value(of: "Location") == nil)
            } else {
                expectRedirect(response, to: bytes(production + "oura?") + query, "a \(size)-byte state")
            }
        }
    }

    static func expectRefusals(port: UInt16, paths: [(label: String, target: String)] = badPaths) throws {
        for (label, target) in paths {
            let response = try HTTPClient.exchange(HTTPClient.request("GET", bytes(target)), port: port)
            expectRefusal(response, label)
        }
    }

    /// `/sandbox/oauth_callback/` and `/oauth_callback/` on one server reach two targets.
    static func expectPerRequestTargets(port: UInt16) throws {
        for _ in 0..<2 {
            let sandboxAnswer = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/sandbox/oauth_callback/oura?code=s1&state=t")), port: port)
            expectRedirect(sandboxAnswer, to: bytes(sandbox + "oura?code=s1&state=t"), "the sandbox path")
            let productionAnswer = try HTTPClient.exchange(
                HTTPClient.request("GET", bytes("/oauth_callback/fitbit?code=p1&state=t")), port: port)
            expectRedirect(productionAnswer, to: bytes(production + "fitbit?code=p1&state=t"), "the production path")
        }
    }

    /// A sentinel code and state for log checks.
    static let secretTarget = bytes("/oauth_callback/oura?code=SECRETCODE&state=SECRETSTATE")
}
