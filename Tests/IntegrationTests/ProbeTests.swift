import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerSuites {
    /// `probe`: one real request to a running daemon, exit 0 only on a 307.
    @Suite struct ProbeTests {
        static func probe(_ arguments: [String], timeout: Double = 30) throws -> Finished {
            try ChildProcess.run(Binary.path, ["probe"] + arguments, environment: [], timeout: timeout)
        }

        /// A unix socket bound at `path`, listening or (as a killed daemon leaves it) not, that nothing answers on.
        static func silentSocket(at path: String, listening: Bool) throws -> Descriptor {
            var address = unixSocketAddress(path)
            let socket = try Descriptor.socket(AF_UNIX)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(socket.raw, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            try #require(bound == 0 && (!listening || listen(socket.raw, 8) == 0))
            return socket
        }

        /// The one line a pass prints: the status and the time, to a tenth of a millisecond.
        static func isPass(_ finished: Finished) -> Bool {
            finished.status == 0 && finished.stderr.isEmpty
                && finished.stdoutText.wholeMatch(of: /307 Temporary Redirect in \d+\.\d ms\n/) != nil
        }

        @Test func aLiveDaemonPasses() throws {
            let daemon = try Daemon(["--workers", "1"])
            let probed = try Self.probe([daemon.socketPath])
            #expect(Self.isPass(probed), "\(probed.status) \(probed.stdoutText) \(probed.stderrText)")
            // A real callback of the probe's own, logged as any other: an empty query would be a reachability check.
            try waitForLog(
                containing: "method=GET provider=probe status=307 target=production-us query_bytes=23\n",
                in: { daemon.log })
        }

        /// `serve` on a loopback port, once it listens; its address as `--listen` and `probe` take it.
        static func tcpDaemon(host: String, _ arguments: [String]) throws -> (ChildProcess, String) {
            let port = try HTTPClient.freeLoopbackPort()
            let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            let daemon = try ChildProcess(
                Binary.path, ["serve", "--listen", address, "--workers", "1", "--target", "sandbox-eu"] + arguments,
                environment: [])
            let listening = waitUntil(timeout: .seconds(30)) {
                !daemon.isRunning || (try? FastCGIConnection(host: host, port: port)) != nil
            }
            try #require(listening && daemon.isRunning, "the daemon never listened")
            return (daemon, address)
        }

        @Test(arguments: ["127.0.0.1", "::1"])
        func aDaemonOnTCPPasses(host: String) throws {
            let (daemon, address) = try Self.tcpDaemon(host: host, [])
            defer { daemon.stop() }
            let probed = try Self.probe([address])
            #expect(Self.isPass(probed), "\(probed.status) \(probed.stdoutText) \(probed.stderrText)")
        }

        /// A daemon whose --allow-from leaves the probe's address out closes the connection unread; the message
        /// says that may be why.
        @Test func aDaemonThatRefusesThisHostFails() throws {
            let (daemon, address) = try Self.tcpDaemon(host: "127.0.0.1", ["--allow-from", "127.0.0.2"])
            defer { daemon.stop() }
            let probed = try Self.probe([address, "--timeout", "20"])
            #expect(probed.status == 1)
            #expect(
                probed.stderrText
                    == "\(address) closed the connection without an answer (an --allow-from list that leaves this "
                    + "host out closes it so)\n")
        }

        /// A daemon started without a target answers 500 to a request that brings none, as the probe's does by
        /// default; the web server's `fastcgi_param`, given with --param, makes it a 307.
        @Test func aDaemonThatAnswers500Fails() throws {
            let daemon = try Daemon(["--workers", "1"], environment: [])
            let probed = try Self.probe([daemon.socketPath])
            #expect(probed.status == 1)
            #expect(probed.stdout.isEmpty)
            #expect(probed.stderrText.hasPrefix("500 Internal Server Error in "), "\(probed.stderrText)")
            #expect(probed.stderrText.contains(", not 307 Temporary Redirect; "))
            #expect(probed.stderrText.contains("--param OAUTH_FORWARD_TARGET="))
            try waitForLog(containing: "provider=probe status=500", in: { daemon.log })

            let given = try Self.probe([daemon.socketPath, "--param", "OAUTH_FORWARD_TARGET=sandbox-us"])
            #expect(Self.isPass(given), "\(given.status) \(given.stderrText)")
        }

        /// With an allowlist, the default provider is a 404 that says what to do, and an allowed one passes.
        @Test func anAllowlistNeedsAProviderItAllows() throws {
            let daemon = try Daemon(["--workers", "1", "--providers", "oura,fitbit"])
            let probed = try Self.probe([daemon.socketPath])
            #expect(probed.status == 1)
            #expect(probed.stderrText.hasPrefix("404 Not Found in "))
            #expect(probed.stderrText.contains("--provider"))
            #expect(Self.isPass(try Self.probe([daemon.socketPath, "--provider", "fitbit"])))
        }

        /// No daemon: no socket file, a socket file nothing listens on (a killed daemon's), a port nothing
        /// listens on, and a daemon that has stopped.
        @Test func aDeadSocketFails() throws {
            let directory = try makeScratchDirectory("probe")
            let absent = try Self.probe([directory + "/absent.sock"])
            #expect(absent.status == 1)
            #expect(
                absent.stderrText == "cannot connect to unix:\(directory)/absent.sock: No such file or directory\n")

            let stale = directory + "/stale.sock"
            let socket = try Self.silentSocket(at: stale, listening: false)
            let refused = try Self.probe([stale])
            #expect(socket.raw >= 0, "the socket file stays bound while the probe runs")
            #expect(refused.status == 1)
            #expect(refused.stderrText == "cannot connect to unix:\(stale): Connection refused\n")

            let port = try HTTPClient.freeLoopbackPort()
            let closedPort = try Self.probe(["127.0.0.1:\(port)"])
            #expect(closedPort.status == 1)
            #expect(closedPort.stderrText == "cannot connect to 127.0.0.1:\(port): Connection refused\n")

            let daemon = try Daemon(["--workers", "1"])
            daemon.process.send(SIGTERM)
            #expect(daemon.process.wait(timeout: 15) == 0)
            let stopped = try Self.probe([daemon.socketPath])
            #expect(stopped.status == 1)
            #expect(stopped.stderrText.hasPrefix("cannot connect to unix:\(daemon.socketPath): "))
        }

        /// A socket that takes the connection and never answers: the probe gives up at --timeout, not later.
        @Test func aSilentPeerTimesOut() throws {
            let directory = try makeScratchDirectory("probe")
            let path = directory + "/silent.sock"
            let socket = try Self.silentSocket(at: path, listening: true)
            let started = Date()
            let probed = try Self.probe([path, "--timeout", "0.5"])
            let elapsed = Date().timeIntervalSince(started)
            #expect(socket.raw >= 0, "the socket stays open while the probe runs")
            #expect(probed.status == 1)
            #expect(probed.stderrText == "no answer from unix:\(path) within 0.5 s\n")
            #expect(elapsed >= 0.5)
            // Far less than the 30 s the runner would wait: the probe's own bound ended it.
            #expect(elapsed < 10)
        }

        /// A peer that is not a FastCGI application, or hangs up: the message says which.
        @Test(arguments: [
            (Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8), "it does not speak FastCGI (its first byte is 0x48"),
            ([], "closed the connection without an answer"),
        ])
        func aPeerThatDoesNotAnswerFastCGIFails(reply: [UInt8], message: String) throws {
            let directory = try makeScratchDirectory("probe")
            let path = directory + "/other.sock"
            let socket = try Self.silentSocket(at: path, listening: true)
            let probe = try ChildProcess(Binary.path, ["probe", path], environment: [])
            var peer = Descriptor(adopting: accept(socket.raw, nil, nil))
            try #require(peer.raw >= 0)
            // Children the tests start get 0, 1 and 2 only; close-on-exec all the same, as every test descriptor.
            _ = fcntl(peer.raw, F_SETFD, FD_CLOEXEC)
            // As a server would, it answers once the request has begun to arrive.
            var first: UInt8 = 0
            #expect(recv(peer.raw, &first, 1, 0) == 1 && first == 1)
            writeAll(reply, to: peer.raw)
            peer.close()
            #expect(probe.wait(timeout: 30) == 1)
            let stderr = String(decoding: probe.stderr, as: UTF8.self)
            #expect(stderr.hasPrefix("unix:\(path)"), "\(stderr)")
            #expect(stderr.contains(message), "\(stderr)")
        }

        @Test func helpSaysWhatItSendsAndHowItExits() throws {
            let help = try ChildProcess.run(Binary.path, ["probe", "--help"], environment: [])
            #expect(help.status == 0)
            for text in [
                "ADDR", "127.0.0.1:9000", "--provider", "--param", "--timeout", "exit 1", "307", "empty query",
            ] {
                #expect(help.stdoutText.contains(text), "no \(text)")
            }
            let top = try ChildProcess.run(Binary.path, ["--help"], environment: [])
            #expect(top.stdoutText.contains("probe"))
        }

        @Test(arguments: [
            (["localhost:9000"], "ADDR takes numeric addresses only"),
            (["/s.sock", "--provider", "Oura"], "--provider"),
            (["/s.sock", "--timeout", "0"], "--timeout must be 0.1 to 3600"),
            (["/s.sock", "--param", "=x"], "NAME=VALUE"),
        ])
        func badArgumentsAreRefused(arguments: [String], message: String) throws {
            let probed = try Self.probe(arguments)
            #expect(probed.status == 64)
            #expect(probed.stderrText.contains(message), "\(probed.stderrText)")
        }
    }
}
