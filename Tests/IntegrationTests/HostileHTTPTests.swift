import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The web servers the hostile requests go through, each with the shipped example in front of the program.
enum HostileServer: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case nginx
    case apacheCGId = "apache-cgid"
    case apacheFcgid = "apache-fcgid"
    case apacheProxyFastCGI = "apache-proxy-fcgi"
    case apacheSharedHosting = "apache-htaccess"

    var testDescription: String { rawValue }

    var apacheMode: ApacheMode? {
        switch self {
        case .nginx: nil
        case .apacheCGId: .cgid
        case .apacheFcgid: .fcgid
        case .apacheProxyFastCGI: .proxyFastCGI
        case .apacheSharedHosting: .sharedHosting
        }
    }
}

/// Every server of the suite, started once for all its tests and stopped when the last one is done: starting
/// five servers per case would take minutes.
final class HostileServers: @unchecked Sendable {
    @TaskLocal static var current: HostileServers?

    private let nginx: NginxSetup
    private let apache: [ApacheMode: ApacheSetup]

    init() throws {
        nginx = try NginxSetup()
        var apache: [ApacheMode: ApacheSetup] = [:]
        for server in HostileServer.allCases {
            if let mode = server.apacheMode { apache[mode] = try ApacheSetup(mode) }
        }
        self.apache = apache
    }

    func port(of server: HostileServer) -> UInt16 {
        server.apacheMode.map { apache[$0]!.port } ?? nginx.port
    }

    static func port(of server: HostileServer) throws -> UInt16 {
        try #require(current, "the servers did not start").port(of: server)
    }
}

/// Runs the suite inside one set of running servers. The setups' deinit stops each server and its children.
struct WithHostileServers: SuiteTrait, TestScoping {
    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // The binding holds the servers while the tests run; released after, they stop.
        try await HostileServers.$current.withValue(try HostileServers(), operation: function)
    }
}

extension Trait where Self == WithHostileServers {
    static var hostileServers: Self { WithHostileServers() }
}

/// One connection that sends exactly the given bytes, as slowly as asked, and reads the answer to the server's
/// close. Unlike HTTPClient.exchange it keeps writing a large body for seconds (the servers read it through a
/// CGI pipe) and tells a reset before any answer from an answer.
final class RawConnection: @unchecked Sendable {
    private let socket: Descriptor
    var fd: Int32 { socket.raw }

    init(port: UInt16) throws {
        socket = try HTTPClient.connectLoopback(port: port, receiveTimeout: 0.1, sendTimeout: 10)
    }

    /// Writes everything unless the server stops reading (it answered early and closed): returns what went out.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Int { writeAll(bytes, to: fd) }

    /// Reads to the server's close, or until `timeout` seconds pass; a reset ends the answer like a close does.
    func readAnswer(timeout: Double = 10) throws -> (answer: [UInt8], reset: Bool) {
        try HTTPClient.readToClose(fd, timeout: timeout)
    }
}

/// A hostile request and the status each server answers it with, as measured on Debian bookworm's nginx 1.22 and
/// Apache 2.4 with the shipped examples.
struct HostileCase: Sendable, CustomTestStringConvertible {
    let label: String
    let request: [UInt8]
    let statuses: [HostileServer: Int]
    /// For the 307s: the query the `Location` must carry after the Junction URL, exactly.
    let query: [UInt8]?

    var testDescription: String { label }

    /// A request with the given request line and header lines, and no others.
    static func raw(_ requestLine: [UInt8], headers: [String] = ["Host: localhost"]) -> [UInt8] {
        requestLine + bytes("\r\n") + headers.flatMap { bytes($0 + "\r\n") } + bytes("Connection: close\r\n\r\n")
    }

    /// `GET target HTTP/1.1`; one status for every server, with exceptions by name.
    init(
        _ label: String, _ request: [UInt8], _ status: Int, query: [UInt8]? = nil,
        except exceptions: [HostileServer: Int] = [:]
    ) {
        self.label = label
        self.request = request
        self.query = query
        statuses = Dictionary(uniqueKeysWithValues: HostileServer.allCases.map { ($0, exceptions[$0] ?? status) })
    }

    init(
        _ label: String, get target: String, _ status: Int, query: String? = nil,
        except exceptions: [HostileServer: Int] = [:]
    ) {
        self.init(label, HTTPClient.request("GET", bytes(target)), status, query: query.map(bytes), except: exceptions)
    }

    /// The "status" of an HTTP/0.9 answer, which has no status line: the suite then expects no byte at all.
    static let httpZeroNine = 0

    /// Text that must never reach a header name or value, nor the part of `Location` before its query.
    static let attackerMarkers = ["injected", "evil"]

    static let all: [HostileCase] = traversal + controlBytes + absoluteForm + hugeHeaders

    static let traversal: [HostileCase] = [
        HostileCase("dot-dot before the provider", get: "/oauth_callback/../oura?code=1", 404),
        HostileCase("encoded dot-dot", get: "/oauth_callback/%2e%2e/oura?code=1", 404),
        HostileCase("dot-dot after the provider", get: "/oauth_callback/oura/..?code=1", 404),
        HostileCase("dot-dot and an encoded slash", get: "/oauth_callback/..%2foura?code=1", 404),
        HostileCase("encoded slash, lower case", get: "/oauth_callback/ou%2fra?code=1", 404),
        HostileCase("encoded slash, upper case", get: "/oauth_callback/ou%2Fra?code=1", 404),
        HostileCase("double-encoded slash", get: "/oauth_callback/ou%252fra?code=1", 404),
        // nginx refuses a path that climbs above the root itself.
        HostileCase(
            "encoded climb to /etc/passwd", get: "/oauth_callback/%2e%2e%2f%2e%2e%2fetc%2fpasswd?code=1", 404,
            except: [.nginx: 400]),
        // The normalised path is a real callback, so it is forwarded, and still only to Junction.
        HostileCase(
            "climbing from the sandbox prefix to the production one",
            get: "/sandbox/oauth_callback/../../oauth_callback/oura?code=1", 307, query: "code=1"),
    ]

    static let controlBytes: [HostileCase] = [
        HostileCase("encoded CR in the path", get: "/oauth_callback/oura%0dX-Injected:%20yes?code=1", 404),
        HostileCase("encoded LF in the path", get: "/oauth_callback/oura%0aX-Injected:%20yes?code=1", 404),
        HostileCase("encoded CR LF in the path", get: "/oauth_callback/oura%0d%0aX-Injected:%20yes?code=1", 404),
        HostileCase("encoded NUL in the path", get: "/oauth_callback/oura%00?code=1", 404, except: [.nginx: 400]),
        // Encoded, the query is forwarded as it came: the escapes stay escapes inside the one Location line.
        HostileCase(
            "encoded CR LF in the query", get: "/oauth_callback/oura?code=1%0d%0aX-Injected:%20yes", 307,
            query: "code=1%0d%0aX-Injected:%20yes"),
        HostileCase(
            "encoded NUL in the query", get: "/oauth_callback/oura?code=1%00&state=x", 307, query: "code=1%00&state=x"),
        HostileCase(
            "raw CR in the path", raw(bytes("GET /oauth_callback/oura\rX-Injected: yes?code=1 HTTP/1.1")), 400),
        // A bare LF ends nginx's request line early: "GET /oauth_callback/oura" is an HTTP/0.9 request, which the
        // program answers with its 307, and an HTTP/0.9 answer is the body alone: no status line, no header, and
        // here no byte at all. Nothing after the LF reaches the program.
        HostileCase(
            "raw LF in the path", raw(bytes("GET /oauth_callback/oura\nX-Injected: yes?code=1 HTTP/1.1")), 400,
            except: [.nginx: httpZeroNine]),
        HostileCase(
            "raw NUL in the path", raw(bytes("GET /oauth_callback/oura") + [0] + bytes("?code=1 HTTP/1.1")), 400),
        HostileCase(
            "raw CR in the query", raw(bytes("GET /oauth_callback/oura?code=1\rX-Injected: yes HTTP/1.1")), 400),
        HostileCase(
            "raw LF in the query", raw(bytes("GET /oauth_callback/oura?code=1\nX-Injected: yes HTTP/1.1")), 400,
            except: [.nginx: httpZeroNine]),
        HostileCase(
            "raw NUL in the query", raw(bytes("GET /oauth_callback/oura?code=1") + [0] + bytes("x HTTP/1.1")), 400),
    ]

    static let absoluteForm: [HostileCase] = [
        HostileCase(
            "absolute-form request line", raw(bytes("GET http://evil.example/oauth_callback/oura?code=1 HTTP/1.1")),
            307, query: bytes("code=1")),
        HostileCase(
            "absolute-form with https", raw(bytes("GET https://evil.example/oauth_callback/oura?code=1 HTTP/1.1")),
            307, query: bytes("code=1")),
        HostileCase(
            "spoofed Host", raw(bytes("GET /oauth_callback/oura?code=1 HTTP/1.1"), headers: ["Host: evil.example"]),
            307, query: bytes("code=1")),
        HostileCase(
            "spoofed forwarding headers",
            raw(
                bytes("GET /oauth_callback/oura?code=1 HTTP/1.1"),
                headers: [
                    "Host: localhost", "X-Forwarded-Host: evil.example", "X-Forwarded-Proto: http",
                    "Forwarded: host=evil.example;proto=http", "X-Original-URL: /oauth_callback/evil",
                    "X-Rewrite-URL: /oauth_callback/evil",
                ]), 307, query: bytes("code=1")),
        HostileCase(
            "scheme-relative path", raw(bytes("GET //evil.example/oauth_callback/oura?code=1 HTTP/1.1")), 404),
        // Paths a server itself might answer with a redirect built from Host: none of them may point there.
        // Under mod_cgid and mod_fcgid the bare prefix maps to the binary outside the granted Location: 403.
        HostileCase(
            "the bare prefix with a spoofed Host",
            raw(bytes("GET /oauth_callback?code=1 HTTP/1.1"), headers: ["Host: evil.example"]), 404,
            except: [.apacheCGId: 403, .apacheFcgid: 403]),
        HostileCase(
            "a directory without its slash, with a spoofed Host",
            raw(bytes("GET /cgi-bin?code=1 HTTP/1.1"), headers: ["Host: evil.example"]), 404),
    ]

    static let hugeHeaders: [HostileCase] = [
        HostileCase(
            "a 64 KB header",
            raw(
                bytes("GET /oauth_callback/oura?code=1 HTTP/1.1"),
                headers: [
                    "Host: localhost", "X-Big: " + String(repeating: "a", count: 64 * 1024),
                ]), 400),
        HostileCase(
            "200 headers",
            raw(
                bytes("GET /oauth_callback/oura?code=1 HTTP/1.1"),
                headers: ["Host: localhost"] + (0..<200).map { "X-Header-\($0): injected-\($0)" }),
            400, query: bytes("code=1"), except: [.nginx: 307]),
        HostileCase(
            "a 100 KB request line",
            raw(
                bytes("GET /oauth_callback/oura?code=") + Array(repeating: UInt8(ascii: "a"), count: 100 * 1024)
                    + bytes(" HTTP/1.1")), 414),
    ]
}

extension ServerSuites {
    @Suite(.hostileServers)
    struct HostileHTTPTests {
        static let junction = bytes(Callbacks.production + "oura")

        /// The status each server answers, and the guarantees whatever it is: only the expected header fields, none
        /// carrying the attacker's text, and no `Location` but Junction's.
        @Test(arguments: HostileServer.allCases, HostileCase.all)
        func hostileRequest(server: HostileServer, hostile: HostileCase) throws {
            let connection = try RawConnection(port: try HostileServers.port(of: server))
            connection.send(hostile.request)
            let (raw, reset) = try connection.readAnswer()
            let response = HTTPResponse(raw: raw)
            if hostile.statuses[server] == HostileCase.httpZeroNine {
                // HTTP/0.9 has no status line and no header: the answer is a body alone. nginx reads the request line
                // up to the raw byte, a path without a query, which the program answers with the reachability page.
                #expect(
                    raw.isEmpty || raw == bytes(Callbacks.reachabilityText(of: "oura")),
                    "an HTTP/0.9 answer with other bytes: \(String(decoding: raw, as: UTF8.self))")
                return
            } else {
                #expect(!raw.isEmpty, "no answer at all (reset: \(reset))")
            }
            #expect(response.status == hostile.statuses[server], "\(response)")
            Self.expectNoInjection(response)
            if response.status == 307 {
                let location = Self.junction + (hostile.query.map { bytes("?") + $0 } ?? [])
                #expect(response.values(of: "Location") == [location], "\(response)")
            }
        }

        /// Bodies posted to the callback: the program reads and discards them, so the answer is the 307 (nginx's
        /// default limit is exactly 1 MiB), never a hang or a reset before the answer. mod_fcgid is the exception: its
        /// FcgidMaxRequestLen (128 KiB by default, not set in apache.conf.example) turns a larger body into a 500.
        @Test(arguments: HostileServer.allCases, [128 << 10, 1 << 20])
        func largePost(server: HostileServer, size: Int) throws {
            let expected = server == .apacheFcgid && size > 128 << 10 ? 500 : 307
            let body = [UInt8](repeating: UInt8(ascii: "a"), count: size)
            let connection = try RawConnection(port: try HostileServers.port(of: server))
            connection.send(HTTPClient.request("POST", bytes("/oauth_callback/oura?code=1"), body: body))
            let (raw, reset) = try connection.readAnswer(timeout: 20)
            let response = HTTPResponse(raw: raw)
            #expect(!raw.isEmpty, "no answer at all (reset: \(reset))")
            #expect(response.status == expected, "\(response)")
            Self.expectNoInjection(response)
            if response.status == 307 {
                #expect(response.values(of: "Location") == [Self.junction + bytes("?code=1")])
            }
        }

        /// One byte of the request line every 100 ms, for about 3 seconds: meanwhile other clients get their answers
        /// at once, and the slow one gets its own when it finally finishes.
        @Test(arguments: HostileServer.allCases)
        func slowClientDoesNotBlockOthers(server: HostileServer) async throws {
            let port = try HostileServers.port(of: server)
            let slow = try RawConnection(port: port)
            let request = HTTPClient.request("GET", bytes("/oauth_callback/oura?code=slow"))
            let requestLineEnd = request.firstIndex(of: UInt8(ascii: "\r"))!
            let sender = Task.detached {
                for byte in request[..<min(requestLineEnd, 30)] {
                    slow.send([byte])
                    try? await Task.sleep(nanoseconds: 100_000_000)
                }
            }
            // While the slow client dribbles, normal requests come through at once. Only in its first 1.2 s: a request
            // blocked behind it would wait for its end, 3 s in, so the bound of 1.5 s tells the two apart with room for
            // a loaded machine.
            for index in 0..<3 {
                let started = Date()
                let response = try HTTPClient.exchange(
                    HTTPClient.request("GET", bytes("/oauth_callback/oura?code=fast\(index)")), port: port, timeout: 5)
                #expect(response.status == 307, "\(response)")
                #expect(Date().timeIntervalSince(started) < 1.5, "a normal request waited for the slow one")
                try await Task.sleep(nanoseconds: 400_000_000)
            }
            await sender.value
            slow.send(Array(request[min(requestLineEnd, 30)...]))
            let (raw, _) = try slow.readAnswer()
            let response = HTTPResponse(raw: raw)
            #expect(response.status == 307, "the slow client's own answer: \(response)")
            #expect(response.values(of: "Location") == [Self.junction + bytes("?code=slow")])
        }

        /// No header a server or the program does not send itself, no header holding the attacker's text, and the
        /// attacker's text in `Location` only inside the forwarded query.
        static func expectNoInjection(_ response: HTTPResponse, sourceLocation: SourceLocation = #_sourceLocation) {
            let unexpected = response.headerNames.filter { !Callbacks.expectedHeaderNames.contains($0) }
            #expect(
                unexpected.isEmpty, "unexpected header fields \(unexpected)\n\(response)",
                sourceLocation: sourceLocation)
            for header in response.headers {
                var text = (header.name + ": " + String(decoding: header.value, as: UTF8.self)).lowercased()
                if header.name.lowercased() == "location" {
                    text = String(text.prefix { $0 != "?" })
                }
                for marker in HostileCase.attackerMarkers {
                    #expect(
                        !text.contains(marker), "a header with attacker text: \(text)", sourceLocation: sourceLocation)
                }
            }
            for location in response.values(of: "Location") {
                #expect(
                    location.starts(with: junction), "Location to \(String(decoding: location, as: UTF8.self))",
                    sourceLocation: sourceLocation)
            }
        }
    }
}
