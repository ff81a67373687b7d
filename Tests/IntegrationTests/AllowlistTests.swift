import FastCGIDaemon
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerSuites {
    /// Who may connect over TCP: `--allow-from`, or `FCGI_WEB_SERVER_ADDRS`, checked as each connection is accepted,
    /// since the threads accept themselves and libfcgi's own check never runs. Loopback stands in for the network:
    /// the daemon listens on 127.0.0.1, and a client bound to 127.0.0.2 plays another machine.
    @Suite struct AllowlistTests {
        /// A connection from an address not on the list is closed before a byte is read, and logged; the web server's
        /// address is served as before.
        @Test(arguments: [
            (["--allow-from", "127.0.0.1"], [(String, [UInt8])]()),
            ([], [("FCGI_WEB_SERVER_ADDRS", bytes("10.9.8.7, 127.0.0.1"))]),
            // A range that holds 127.0.0.0 and 127.0.0.1, and not 127.0.0.2.
            (["--allow-from", "fd00::/8,127.0.0.0/31"], []),
            ([], [("FCGI_WEB_SERVER_ADDRS", bytes("10.0.0.0/8,127.0.0.0/31"))]),
        ])
        func otherAddressesAreClosedUnread(flags: [String], environment: [(String, [UInt8])]) throws {
            let port = try HTTPClient.freeLoopbackPort()
            let daemon = try ChildProcess(
                Binary.path,
                ["serve", "--listen", "127.0.0.1:\(port)", "--workers", "1", "--target", "sandbox-eu"] + flags,
                environment: environment)
            defer { daemon.stop() }
            let log = { String(decoding: daemon.stderr, as: UTF8.self) }
            try waitForLog(containing: "event=worker_start ", in: log, timeout: 20)

            let stranger = try connectWhenListening(port: port, source: "127.0.0.2")
            // The whole request, the records that abort libfcgi among them: none of it is read.
            stranger.send(FastCGIRecord.request(Daemon.parameters(query: "c=1")) + LibFCGICrashers.getValuesOverflow)
            #expect(stranger.readAnswer().stdout.isEmpty)
            #expect(stranger.peerClosed())
            try waitForLog(containing: "event=refused peer=127.0.0.2", in: log, timeout: 20)

            let webServer = try FastCGIConnection(host: "127.0.0.1", port: port, source: "127.0.0.1")
            webServer.send(FastCGIRecord.request(Daemon.parameters(query: "c=2")))
            #expect(
                webServer.readAnswer().stdout
                    == Daemon.redirect(to: bytes("https://api.sandbox.eu.junction.com/v2/link/connect/oura?c=2")))
            #expect(!log().contains("worker_exit"), "\(log())")
        }

        /// A peer that connects in a loop cannot fill the log: a worker logs the first 10 refusals of each second
        /// one by one and counts the others, in one line at most once a second, so every refusal is accounted for.
        @Test func aFloodOfRefusalsIsCountedNotLoggedOneByOne() throws {
            let port = try HTTPClient.freeLoopbackPort()
            let daemon = try ChildProcess(
                Binary.path,
                [
                    "serve", "--listen", "127.0.0.1:\(port)", "--workers", "1", "--target", "sandbox-eu",
                    "--allow-from", "127.0.0.1",
                ],
                environment: [])
            defer { daemon.stop() }
            let log = { String(decoding: daemon.stderr, as: UTF8.self) }
            try waitForLog(containing: "event=worker_start ", in: log, timeout: 20)

            let flood = 300
            let start = Date()
            for _ in 0..<flood {
                let stranger = try connectWhenListening(port: port, source: "127.0.0.2")
                #expect(stranger.peerClosed())
            }
            let seconds = Date().timeIntervalSince(start)
            // Each refusal is in the log once, on a line of its own or in a count.
            var lines = 0
            var counted = 0
            _ = waitUntil(timeout: .seconds(10), every: .milliseconds(20)) {
                let text = log()
                lines = text.components(separatedBy: "event=refused peer=127.0.0.2").count - 1
                counted = text.split(separator: "\n").filter { $0.contains("event=refused_unlogged ") }.reduce(0) {
                    $0 + (Int($1.split(separator: "count=").last ?? "") ?? 0)
                }
                return lines + counted >= flood
            }
            #expect(lines + counted == flood, "\(lines) lines, \(counted) counted\n\(log())")
            #expect(lines <= 10 * (Int(seconds) + 2), "\(lines) lines in \(seconds) s")
            #expect(counted > 0)
            // The web server is served meanwhile.
            let webServer = try FastCGIConnection(host: "127.0.0.1", port: port, source: "127.0.0.1")
            webServer.send(FastCGIRecord.request(Daemon.parameters(query: "c=2")))
            #expect(
                webServer.readAnswer().stdout
                    == Daemon.redirect(to: bytes("https://api.sandbox.eu.junction.com/v2/link/connect/oura?c=2")))
        }

        /// Listening where other machines can reach it, with nobody kept out, stops the start with what to do.
        @Test(arguments: ["0.0.0.0", "[::]"])
        func exposedAddressWithoutAllowlistStopsTheStart(host: String) throws {
            let port = try HTTPClient.freeLoopbackPort()
            let finished = try ChildProcess.run(
                Binary.path, ["serve", "--listen", "\(host):\(port)", "--target", "sandbox-us"], environment: [])
            #expect(finished.status != 0)
            #expect(finished.stderrText.contains("can be reached from other machines"), "\(finished.stderrText)")
            #expect(finished.stderrText.contains("--allow-from"))
            #expect(!finished.stderrText.contains("event=start"))
        }

        @Test(arguments: [
            ("foo.example", "is not a numeric"), ("127.0.0.1,", "has an empty entry"),
            ("127.0.0.1/8", "write the network, 127.0.0.0/8"),
        ])
        func unusableAllowlistStopsTheStart(list: String, message: String) throws {
            let port = try HTTPClient.freeLoopbackPort()
            for (flags, environment) in [
                (["--allow-from", list], [(String, [UInt8])]()), ([], [("FCGI_WEB_SERVER_ADDRS", bytes(list))]),
            ] {
                let finished = try ChildProcess.run(
                    Binary.path, ["serve", "--listen", "0.0.0.0:\(port)", "--target", "sandbox-us"] + flags,
                    environment: environment)
                #expect(finished.status != 0)
                #expect(finished.stderrText.contains(message), "\(finished.stderrText)")
            }
        }

        /// A control byte in the list reaches the message escaped, never raw: a CR or a newline could otherwise
        /// forge a line in the journal.
        @Test func controlBytesInTheListAreEscapedInTheMessage() throws {
            let port = try HTTPClient.freeLoopbackPort()
            let finished = try ChildProcess.run(
                Binary.path, ["serve", "--listen", "0.0.0.0:\(port)", "--target", "sandbox-us"],
                environment: [("FCGI_WEB_SERVER_ADDRS", bytes("10.0.0.5\r\napp=oauth-forward-cgi event=forged"))])
            #expect(finished.status != 0)
            let quoted = "\"10.0.0.5\\x0d\\x0aapp=oauth-forward-cgi event=forged\" in the allowlist"
            #expect(finished.stderrText.contains(quoted), "\(finished.stderrText)")
            #expect(!finished.stderr.contains(0x0D))
            let lines = finished.stderrText.split(separator: "\n")
            #expect(!lines.contains { $0.hasPrefix("app=oauth-forward-cgi event=forged") })
        }

        /// A unix socket has no peer address: the socket file's permissions guard it, and the list changes nothing.
        @Test func unixSocketsAreUnaffected() throws {
            let daemon = try Daemon(["--allow-from", "10.0.0.1"])
            #expect(
                try daemon.get(query: "u=1").stdout == Daemon.redirect(to: Daemon.productionOura + bytes("?u=1")))
            #expect(!daemon.log.contains("event=refused"))
        }

        /// Under a spawner that listens on TCP itself (spawn-fcgi -a), the variable is honoured the same way.
        @Test func spawnerOnTCPHonoursTheVariable() throws {
            try requireTool("/usr/bin/spawn-fcgi", package: "spawn-fcgi")
            let port = try HTTPClient.freeLoopbackPort()
            let spawner = try ChildProcess(
                "/usr/bin/spawn-fcgi", ["-n", "-a", "127.0.0.1", "-p", "\(port)", "--", Binary.path],
                environment: [
                    ("FCGI_WEB_SERVER_ADDRS", bytes("127.0.0.1")), ("OAUTH_FORWARD_TARGET", bytes("sandbox-us")),
                ])
            defer { spawner.stop() }
            let stranger = try connectWhenListening(port: port, source: "127.0.0.2")
            stranger.send(FastCGIRecord.request(Daemon.parameters(query: "c=1")))
            #expect(stranger.readAnswer().stdout.isEmpty)
            try waitForLog(
                containing: "event=refused peer=127.0.0.2", in: { String(decoding: spawner.stderr, as: UTF8.self) },
                timeout: 20)
            let webServer = try FastCGIConnection(host: "127.0.0.1", port: port)
            webServer.send(FastCGIRecord.request(Daemon.parameters(query: "c=2")))
            #expect(
                webServer.readAnswer().stdout
                    == Daemon.redirect(to: bytes("https://api.sandbox.us.junction.com/v2/link/connect/oura?c=2")))
        }

        /// Under a spawner that listens on every address, with no list, the program refuses to serve.
        @Test func spawnerOnAnExposedAddressWithoutListRefuses() throws {
            try requireTool("/usr/bin/spawn-fcgi", package: "spawn-fcgi")
            let port = try HTTPClient.freeLoopbackPort()
            let spawner = try ChildProcess(
                "/usr/bin/spawn-fcgi", ["-n", "-a", "0.0.0.0", "-p", "\(port)", "--", Binary.path],
                environment: [("OAUTH_FORWARD_TARGET", bytes("sandbox-us"))])
            defer { spawner.stop() }
            #expect(spawner.wait(timeout: 10) == 1)
            #expect(String(decoding: spawner.stderr, as: UTF8.self).contains("can be reached from other machines"))
        }

        private func connectWhenListening(port: UInt16, source: String) throws -> FastCGIConnection {
            var connection: FastCGIConnection?
            _ = waitUntil(timeout: .seconds(10)) {
                connection = try? FastCGIConnection(host: "127.0.0.1", port: port, source: source)
                return connection != nil
            }
            return try #require(connection, "nothing listens on 127.0.0.1:\(port)")
        }
    }
}
