import Foundation
import OAuthForward
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerSuites {
    /// `serve`: where it listens, how it starts, and the tools around it.
    @Suite struct DaemonTests {
        @Test func servesOnAUnixSocketWithTheDefaultMode() throws {
            let daemon = try Daemon(["--workers", "2", "--threads", "2"])
            #expect(
                try daemon.get(query: "code=1&state=x%2By").stdout
                    == Daemon.redirect(to: Daemon.productionOura + bytes("?code=1&state=x%2By")), "\(daemon.log)")
            var status = stat()
            #expect(lstat(daemon.socketPath, &status) == 0)
            #expect(status.st_mode & 0o777 == 0o660)
            try daemon.waitForWorkers(2)
        }

        /// As root the socket goes to www-data (33); otherwise to a group this user is in, as only such a chown is
        /// allowed: a supplementary group where there is one, so the group still changes.
        @Test func socketModeAndGroupAreApplied() throws {
            var groups = [gid_t](repeating: 0, count: 64)
            let count = getgroups(Int32(groups.count), &groups)
            let group = runsAsRoot ? 33 : (groups.prefix(Int(max(count, 0))).first { $0 != getegid() } ?? getegid())
            let daemon = try Daemon(["--socket-mode", "0600", "--socket-group", "\(group)", "--workers", "1"])
            var status = stat()
            #expect(lstat(daemon.socketPath, &status) == 0)
            #expect(status.st_mode & 0o777 == 0o600)
            #expect(status.st_gid == group)
        }

        /// A name is looked up in /etc/group: the name of the group the test above picks, as glibc gives it.
        @Test func socketGroupByNameComesFromEtcGroup() throws {
            let group = runsAsRoot ? 33 : getegid()
            let name = String(cString: try #require(getgrgid(group)).pointee.gr_name)
            let daemon = try Daemon(["--socket-group", name, "--workers", "1"])
            var status = stat()
            #expect(lstat(daemon.socketPath, &status) == 0)
            #expect(status.st_gid == group, "\(name)")
        }

        /// A worker's connection threads block SIGTERM, SIGINT and SIGQUIT, so the kernel hands those to the worker's
        /// main thread: in a connection thread, the handler would interrupt libfcgi's read or write (EINTR), and
        /// libfcgi gives the connection up, answer unsent.
        @Test func onlyTheMainThreadOfAWorkerTakesShutdownSignals() throws {
            let daemon = try Daemon(["--workers", "1", "--threads", "3"])
            try daemon.waitForWorkers(1)
            let worker = try #require(daemon.workers.first)
            // The threads are up once the worker has answered.
            _ = try daemon.get(query: "code=1")
            var connectionThreads = 0
            for task in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(worker)/task") {
                let blocked = try Self.blockedSignals(of: "/proc/\(worker)/task/\(task)")
                if task == "\(worker)" {
                    #expect(blocked & Self.shutdownSignals == 0, "main thread: \(String(blocked, radix: 16))")
                } else {
                    connectionThreads += 1
                    #expect(
                        blocked & Self.shutdownSignals == Self.shutdownSignals,
                        "thread \(task): \(String(blocked, radix: 16))")
                }
            }
            // Three, and under ThreadSanitizer its own background thread too.
            #expect(connectionThreads >= 3)
        }

        /// A worker starts with SIGTERM, SIGINT and SIGQUIT blocked, and unblocks them once its handlers are in place:
        /// a stop or a reload that comes while it starts waits for them, instead of killing it by default action
        /// (SIGQUIT with a core dump). The binary on disk is replaced by a script that records the mask a worker was
        /// started with, then runs the program; a reload starts its new workers from it.
        @Test func workersStartWithTheShutdownSignalsBlocked() throws {
            let daemon = try Daemon(["--workers", "1", "--threads", "2"], ownBinary: true)
            try daemon.waitForWorkers(1)
            let binary = daemon.directory + "/bin/oauth-forward-cgi"
            let program = daemon.directory + "/bin/program"
            let maskFile = daemon.directory + "/spawned-mask"
            #expect(link(binary, program) == 0)
            try replace(
                binary,
                with: bytes(
                    """
                    #!/bin/sh
                    if [ "$1" = worker ]; then
                        while read -r name value <&9; do
                            if [ "$name" = SigBlk: ]; then echo "$value" > \(maskFile).new; fi
                        done 9< /proc/$$/status
                        mv \(maskFile).new \(maskFile)
                    fi
                    exec \(program) "$@"

                    """))
            daemon.process.send(SIGHUP)
            try waitForLog(containing: "event=reload ", in: { daemon.log }, timeout: 20)
            let started = waitUntil(timeout: .seconds(10)) { FileManager.default.fileExists(atPath: maskFile) }
            try #require(started, "the new worker never started: \(daemon.log)")
            let spawned = try #require(
                UInt64(readText(maskFile).trimmingCharacters(in: .whitespacesAndNewlines), radix: 16))
            #expect(
                spawned & Self.shutdownSignals == Self.shutdownSignals,
                "started with SigBlk \(String(spawned, radix: 16))")
            // The program, started that way, serves, and its main thread takes the signals again. Asked once the
            // old worker, which is retiring, has gone: until then it may be the one /proc lists first, or half gone.
            try waitForLog(containing: "event=worker_retired ", in: { daemon.log }, timeout: 20)
            #expect(
                try daemon.get(query: "after=1").stdout
                    == Daemon.redirect(to: Daemon.productionOura + bytes("?after=1")))
            let worker = try #require(daemon.workers.first)
            let blocked = try Self.blockedSignals(of: "/proc/\(worker)")
            #expect(blocked & Self.shutdownSignals == 0, "SigBlk \(String(blocked, radix: 16))")
        }

        /// SIGTERM, SIGINT and SIGQUIT in a mask as /proc shows it: bit N-1 for signal N.
        static let shutdownSignals: UInt64 = 1 << (SIGTERM - 1) | 1 << (SIGINT - 1) | 1 << (SIGQUIT - 1)

        /// The signals blocked in a process or thread, from `SigBlk:` in `directory`/status.
        static func blockedSignals(of directory: String) throws -> UInt64 {
            let status = readText(directory + "/status")
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") })
            return try #require(UInt64(line.dropFirst("SigBlk:".count).trimmingCharacters(in: .whitespaces), radix: 16))
        }

        /// Workers get the supervisor's environment byte for byte (a raw 0xFF stays one byte), with a flag's value
        /// in place of its variable's, once.
        @Test func workersGetTheEnvironmentAsItIs() throws {
            let daemon = try Daemon(
                ["--workers", "1", "--target", "sandbox-eu"],
                environment: [
                    ("OAUTH_FORWARD_TARGET", bytes("production-us")), ("OAFC_PROBE", bytes("a") + [0xFF] + bytes("b")),
                ])
            try daemon.waitForWorkers(1)
            let worker = try #require(daemon.workers.first)
            let environ = try Array(Data(contentsOf: URL(fileURLWithPath: "/proc/\(worker)/environ")))
            let entries = environ.split(separator: 0).map(Array.init)
            #expect(entries.contains(bytes("OAFC_PROBE=a") + [0xFF] + bytes("b")))
            #expect(
                entries.filter { $0.starts(with: bytes("OAUTH_FORWARD_TARGET=")) } == [
                    bytes("OAUTH_FORWARD_TARGET=sandbox-eu")
                ])
            #expect(
                try daemon.get(query: "e=1").stdout
                    == Daemon.redirect(to: bytes("https://api.sandbox.eu.junction.com/v2/link/connect/oura?e=1")))
        }

        @Test func staleSocketFileIsReplaced() throws {
            let directory = try makeScratchDirectory("stale")
            let path = directory + "/fcgi.sock"
            // A socket file nothing listens on, as a killed daemon leaves behind.
            var address = unixSocketAddress(path)
            do {
                let socket = try Descriptor.socket(AF_UNIX)
                _ = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(socket.raw, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                    }
                }
            }
            let daemon = try ChildProcess(
                Binary.path, ["serve", "--listen", path, "--workers", "1"],
                environment: [("OAUTH_FORWARD_TARGET", bytes("production-us"))])
            defer { daemon.stop() }
            let answer = Daemon.firstAnswer(at: path, query: "a=1")
            #expect(answer.stdout == Daemon.redirect(to: Daemon.productionOura + bytes("?a=1")))
        }

        @Test func socketALiveProcessAnswersOnIsRefused() throws {
            let daemon = try Daemon(["--workers", "1"])
            let second = try ChildProcess.run(
                Binary.path, ["serve", "--listen", daemon.socketPath],
                environment: [("OAUTH_FORWARD_TARGET", bytes("sandbox-us"))])
            #expect(second.status != 0)
            #expect(second.stderrText.contains("a live process is listening on \(daemon.socketPath)"))
            // The first one is untouched.
            #expect(try daemon.get(query: "b=2").stdout == Daemon.redirect(to: Daemon.productionOura + bytes("?b=2")))
        }

        @Test func fileThatIsNotASocketIsLeftAlone() throws {
            let directory = try makeScratchDirectory("notsocket")
            let path = directory + "/fcgi.sock"
            try Data("keep me".utf8).write(to: URL(fileURLWithPath: path))
            let finished = try ChildProcess.run(
                Binary.path, ["serve", "--listen", path], environment: [("OAUTH_FORWARD_TARGET", bytes("sandbox-us"))])
            #expect(finished.status != 0)
            #expect(finished.stderrText.contains("is not a socket"))
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me")
        }

        @Test(arguments: ["127.0.0.1", "::1"])
        func servesOnANumericTCPAddress(host: String) throws {
            let port = try HTTPClient.freeLoopbackPort()
            let listen = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            let daemon = try ChildProcess(
                Binary.path, ["serve", "--listen", listen, "--workers", "1", "--target", "sandbox-eu"], environment: [])
            defer { daemon.stop() }
            var connection: FastCGIConnection?
            _ = waitUntil(timeout: .seconds(5)) {
                connection = try? FastCGIConnection(host: host, port: port)
                return connection != nil
            }
            let client = try #require(connection)
            client.send(FastCGIRecord.request(Daemon.parameters(query: "c=3")))
            #expect(
                client.readAnswer().stdout
                    == Daemon.redirect(to: bytes("https://api.sandbox.eu.junction.com/v2/link/connect/oura?c=3")))
        }

        @Test(arguments: [
            ("localhost:9000", "numeric addresses only"), ("127.0.0.1:0", "port outside"),
            ("127.0.0.1", "not an address"), ("", "is empty"),
        ])
        func unusableListenAddressStopsTheStart(listen: String, message: String) throws {
            let finished = try ChildProcess.run(
                Binary.path, ["serve", "--listen", listen], environment: [("OAUTH_FORWARD_TARGET", bytes("sandbox-us"))]
            )
            #expect(finished.status != 0)
            #expect(finished.stderrText.contains(message))
        }

        /// A configuration that cannot be right stops the daemon before it binds anything.
        @Test(arguments: [
            (["--target", "prod"], "OAUTH_FORWARD_TARGET is not a known preset"),
            (["--target", "http://example.com/{provider}"], "OAUTH_FORWARD_TARGET uses http://"),
            (["--target", "sandbox-us", "--providers", "oura,"], "OAUTH_FORWARD_PROVIDERS has an empty entry"),
            (["--workers", "0"], "--workers must be 1 to 256"),
            (["--socket-mode", "999"], "--socket-mode must be octal"),
            (["--socket-group", "oafc-none"], "--socket-group oafc-none is not a known group: no line of /etc/group"),
            (["--socket-group", "4294967295"], "--socket-group 4294967295 is not a group id"),
            (["--idle-timeout", "0"], "--idle-timeout must be 0.1 to 3600 seconds"),
            (["--request-timeout", "0.05"], "--request-timeout must be 0.1 to 3600 seconds"),
        ])
        func configurationErrorStopsTheStart(arguments: [String], message: String) throws {
            let directory = try makeScratchDirectory("badconfig")
            let finished = try ChildProcess.run(
                Binary.path, ["serve", "--listen", directory + "/fcgi.sock"] + arguments, environment: [])
            #expect(finished.status != 0)
            #expect(finished.stderrText.contains(message))
            #expect(!FileManager.default.fileExists(atPath: directory + "/fcgi.sock"))
        }

        @Test func malformedTargetInTheEnvironmentStopsTheStart() throws {
            let directory = try makeScratchDirectory("badenv")
            let finished = try ChildProcess.run(
                Binary.path, ["serve", "--listen", directory + "/fcgi.sock"],
                environment: [("OAUTH_FORWARD_TARGET", bytes("sandbox"))])
            #expect(finished.status != 0)
            #expect(finished.stderrText.contains("OAUTH_FORWARD_TARGET is not a known preset"))
        }

        @Test func flagsWinOverTheEnvironmentAndRequestsWinOverBoth() throws {
            let daemon = try Daemon(
                ["--target", "sandbox-us", "--providers", "oura", "--workers", "1"],
                environment: [("OAUTH_FORWARD_TARGET", bytes("production-eu"))])
            #expect(
                try daemon.get(query: "a=1").stdout
                    == Daemon.redirect(to: bytes("https://api.sandbox.us.junction.com/v2/link/connect/oura?a=1")))
            #expect(try daemon.get(query: "", path: "/fitbit").stdoutText.hasPrefix("Status: 404 Not Found\r\n"))
            let connection = try FastCGIConnection(unixPath: daemon.socketPath)
            connection.send(
                FastCGIRecord.request(
                    Daemon.parameters(query: "a=1") + [("OAUTH_FORWARD_TARGET", bytes("production-us"))]))
            #expect(connection.readAnswer().stdout == Daemon.redirect(to: Daemon.productionOura + bytes("?a=1")))
        }

        /// With no --listen it serves the socket systemd passes: LISTEN_FDS, or fd 0 (StandardInput=socket, --inetd).
        @Test(arguments: [[], ["--inetd"]])
        func servesASocketFromSystemdSocketActivation(mode: [String]) throws {
            try requireTool("/usr/bin/systemd-socket-activate", package: "systemd")
            let directory = try makeScratchDirectory("activate")
            let path = directory + "/fcgi.sock"
            let activator = try ChildProcess(
                "/usr/bin/systemd-socket-activate",
                mode + ["-l", path, "-E", "OAUTH_FORWARD_TARGET=sandbox-eu", Binary.path, "serve", "--workers", "2"],
                environment: [("PATH", bytes("/usr/bin:/bin"))])
            defer { activator.stop() }
            let answer = Daemon.firstAnswer(at: path, query: "d=4")
            #expect(
                answer.stdout
                    == Daemon.redirect(to: bytes("https://api.sandbox.eu.junction.com/v2/link/connect/oura?d=4")))
            // systemd-socket-activate execs the daemon in its own process: the supervisor is that pid.
            _ = waitUntil(timeout: .seconds(5), every: .milliseconds(20)) {
                Daemon.children(of: activator.pid).count == 2
            }
            #expect(Daemon.children(of: activator.pid).count == 2)
            activator.send(SIGTERM)
            #expect(activator.wait(timeout: 15) == 0)
        }

        @Test func servesASocketInheritedOnFd0WithArguments() throws {
            try requireTool("/usr/bin/spawn-fcgi", package: "spawn-fcgi")
            let directory = try makeScratchDirectory("spawned")
            let path = directory + "/fcgi.sock"
            let spawner = try ChildProcess(
                "/usr/bin/spawn-fcgi",
                ["-n", "-s", path, "--", Binary.path, "serve", "--workers", "2", "--threads", "2"],
                environment: [("OAUTH_FORWARD_TARGET", bytes("production-us"))])
            defer { spawner.stop() }
            let answer = Daemon.firstAnswer(at: path, query: "e=5")
            #expect(answer.stdout == Daemon.redirect(to: Daemon.productionOura + bytes("?e=5")))
        }

        @Test func serveWithoutAnySocketSaysWhatToDo() throws {
            let finished = try ChildProcess.run(Binary.path, ["serve"], environment: [])
            #expect(finished.status != 0)
            #expect(finished.stderrText.contains("nothing to listen on: give --listen"))
        }

        @Test func helpVersionAndCheck() throws {
            let help = try ChildProcess.run(Binary.path, ["serve", "--help"], environment: [])
            #expect(help.status == 0)
            for flag in [
                "--listen", "--socket-mode", "--socket-group", "--workers", "--threads", "--idle-timeout",
                "--request-timeout", "--grace", "--target", "--providers",
            ] {
                #expect(help.stdoutText.contains(flag))
            }
            let version = try ChildProcess.run(Binary.path, ["--version"], environment: [])
            #expect(version.status == 0)
            #expect(version.stdoutText.hasPrefix("oauth-forward-cgi "))

            let check = try ChildProcess.run(
                Binary.path, ["check", "--target", "sandbox-us", "--providers", "oura", "/oura?code=a%2Bb&state=x"],
                environment: [])
            #expect(check.status == 0)
            #expect(check.stdoutText.contains("OAUTH_FORWARD_TARGET: sandbox-us (--target)\n"))
            #expect(check.stdoutText.contains("OAUTH_FORWARD_PROVIDERS: oura (--providers)\n"))
            #expect(check.stdoutText.contains("route: always sandbox-us\n"))
            #expect(
                check.stdoutText.contains(
                    "Location: https://api.sandbox.us.junction.com/v2/link/connect/oura?code=a%2Bb&state=x\n"))

            let refused = try ChildProcess.run(
                Binary.path, ["check", "/Oura?code=1"],
                environment: [("OAUTH_FORWARD_TARGET", bytes("production-eu"))])
            #expect(refused.status == 1)
            #expect(refused.stdoutText.contains("OAUTH_FORWARD_TARGET: production-eu (environment)\n"))
            #expect(refused.stdoutText.contains("Status: 404 Not Found"))
        }

        /// `check` shows the reachability answer to a query-less GET, and its row, and exits 0 on it.
        @Test func checkShowsTheReachabilityAnswer() throws {
            let check = try ChildProcess.run(
                Binary.path, ["check", "--target", "sandbox-us", "/oura/"], environment: [])
            #expect(check.status == 0, "\(check.stdoutText)")
            #expect(
                check.stdoutText.contains(
                    "PATH_INFO: /{provider}, or with one / after the provider\n"
                        + "without a query: GET and HEAD answer 200 (a reachability check, not forwarded); POST is "
                        + "forwarded\n"))
            #expect(check.stdoutText.contains("\nStatus: 200 OK\n"))
            #expect(check.stdoutText.contains("\n\n" + Callbacks.reachabilityText(of: "oura")))
            #expect(check.stdoutText.contains(" route=reachability trailing_slash=1\n"))
            let post = try ChildProcess.run(
                Binary.path, ["check", "--method", "POST", "--target", "sandbox-us", "/oura"], environment: [])
            #expect(post.status == 0)
            #expect(post.stdoutText.contains("Location: https://api.sandbox.us.junction.com/v2/link/connect/oura\n"))
        }

        /// Every way a person reads about the variables names all four and their flags: the top-level --help (and
        /// so the man page help2man makes from it), serve's and check's --help, and the usage text without arguments.
        @Test(arguments: [["--help"], ["serve", "--help"], ["check", "--help"], []])
        func everyHelpTextNamesEveryVariable(arguments: [String]) throws {
            let finished = try ChildProcess.run(Binary.path, arguments, environment: [])
            let text = finished.stdoutText + finished.stderrText
            let top = arguments.first != "serve" && arguments.first != "check"
            for variable in ConfigurationVariable.allCases {
                #expect(text.contains(variable.name), "\(arguments): no \(variable.name)\n\(text)")
                #expect(text.contains(variable.flag), "\(arguments): no \(variable.flag)")
                if top { #expect(text.contains(variable.required), "\(arguments): \(variable.name) required?") }
            }
        }

        /// `check` shows the exact bytes the CGI answer would carry: a raw 0xFF in the query stays one byte, as in CGI
        /// mode, and is not turned into U+FFFD by a `String` on the way.
        @Test func checkWorksOnBytes() throws {
            let query = bytes("a") + [0xFF] + bytes("b")
            let check = try ChildProcess.run(
                Binary.path,
                rawArguments: [bytes("check"), bytes("--target"), bytes("sandbox-us"), bytes("/oura?") + query],
                environment: [])
            #expect(check.status == 0, "\(check.stderrText)")
            let location =
                bytes("Location: https://api.sandbox.us.junction.com/v2/link/connect/oura?") + query + bytes("\n")
            #expect(check.stdout.firstRange(of: location) != nil, "\(check.stdout)")
            #expect(check.stdout.firstRange(of: [0xEF, 0xBF, 0xBD]) == nil)
            #expect(check.stdoutText.contains("query_bytes=3"))

            let cgi = try ChildProcess.run(Binary.path, environment: CGIModeTests.cgiEnvironment(query: query))
            #expect(cgi.stdout.firstRange(of: Array(location.dropLast()) + bytes("\r\n")) != nil, "\(cgi.stdoutText)")
        }
    }
}
