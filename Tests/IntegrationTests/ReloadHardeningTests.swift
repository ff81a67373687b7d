import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerSuites {
    /// A reload can only do what it says: the handover proves where it came from, a stop signal is never lost, a
    /// failed reload changes nothing, the configuration is read once, the socket cannot move, and a signal while the
    /// daemon starts does not kill it.
    @Suite struct ReloadHardeningTests {
        /// A process that a forged handover names, which must come through untouched.
        final class Bystander {
            let process: ChildProcess
            init() throws { process = try ChildProcess("/bin/sleep", ["60"], environment: []) }
            deinit { process.stop() }
            var isAlive: Bool { process.wait(timeout: 0) == nil }
        }

        enum Forgery: String, CaseIterable {
            /// The form before the handover named its supervisor: accepted as it was, it had the daemon kill the pid.
            case previousForm
            /// Every field right but the workers, which are not the daemon's children.
            case strangersPid
            /// Another socket than the one it names.
            case wrongSocket
            /// Made for another process.
            case anotherSupervisor
        }

        /// A handover variable set by hand, with a listening socket on fd 0 as the daemon would inherit it, is
        /// refused with a message that names the reason, and the process it names is never signalled.
        @Test(arguments: Forgery.allCases)
        func forgedHandoverIsRefusedAndSignalsNoOne(_ forgery: Forgery) throws {
            let directory = try makeScratchDirectory("forged")
            let socket = try ServerSuites.ProbeTests.silentSocket(at: directory + "/s.sock", listening: true)
            var status = stat()
            try #require(fstat(socket.raw, &status) == 0)
            let identity = "\(status.st_dev):\(status.st_ino)"
            let bystander = try Bystander()
            let victim = bystander.process.pid
            let fields = { (supervisor: String, socketIdentity: String) in
                "supervisor=\(supervisor) listen-fd=0 listen-socket=\(socketIdentity) socket-file=- config-fd=- "
                    + "image-fd=- workers=\(victim) retiring= version=evil"
            }
            let (handover, reason): (String, String) =
                switch forgery {
                case .previousForm: ("listen-fd=0 workers=\(victim) version=evil", "it does not parse")
                case .strangersPid: (fields("$$", identity), "process \(victim) is not a child of this process")
                case .wrongSocket: (fields("$$", "1:1"), "fd 0 is not the listening socket 1:1")
                case .anotherSupervisor: (fields("1", identity), "it was made for process 1, and this is process")
                }
            // Through a shell that execs the program, so that $$ is the program's own pid.
            let daemon = try ChildProcess(
                "/bin/sh", ["-c", "OAUTH_FORWARD_HANDOVER=\"\(handover)\" exec \"$0\" serve", Binary.path],
                environment: [("OAUTH_FORWARD_TARGET", bytes("production-us"))], stdinFD: socket.raw)
            let exit = daemon.wait(timeout: 30)
            let message = String(decoding: daemon.stderr, as: UTF8.self)
            #expect(exit != nil && exit != 0, "\(message)")
            #expect(message.contains("OAUTH_FORWARD_HANDOVER=\""), "\(message)")
            #expect(message.contains(reason), "\(message)")
            #expect(bystander.isAlive, "the daemon signalled a process it was told to take over\n\(message)")
        }

        /// SIGTERM, SIGINT or SIGQUIT from 1 to 20 ms after a SIGHUP, while the reload is under way: the daemon
        /// stops, gracefully and soon, whichever step of the reload the signal came in.
        @Test(arguments: [
            (SIGTERM, 1), (SIGTERM, 2), (SIGTERM, 5), (SIGTERM, 10), (SIGTERM, 15), (SIGTERM, 20), (SIGINT, 3),
            (SIGQUIT, 8),
        ])
        func stopSignalDuringAReloadWins(signal: Int32, delayMilliseconds: Int) throws {
            let daemon = try Daemon(["--workers", "2", "--threads", "2"])
            try daemon.waitForWorkers(2)
            daemon.process.send(SIGHUP)
            usleep(UInt32(delayMilliseconds * 1000))
            daemon.process.send(signal)
            let exit = daemon.process.wait(timeout: 15)
            #expect(exit == 0, "still running 15 s after signal \(signal)\n\(daemon.log)")
            #expect(daemon.log.contains("event=stopped"), "\(daemon.log)")
        }

        /// A reload whose check passes but whose new workers never serve: the running program, its configuration
        /// and its workers stay as they were. A worker that dies later is replaced from the running image, never
        /// from the file now on disk, which may be anything, or gone. A reload that succeeds switches both.
        @Test func failedReloadChangesNothing() throws {
            let settings = try makeScratchDirectory("failed-reload") + "/settings"
            try replace(settings, with: bytes("OAUTH_FORWARD_TARGET=sandbox-eu\n"))
            let daemon = try Daemon(
                ["--config", settings, "--workers", "2", "--threads", "2"], environment: [], ownBinary: true)
            let supervisor = daemon.process.pid
            let binary = daemon.directory + "/bin/oauth-forward-cgi"
            let good = daemon.directory + "/bin/good"
            #expect(link(binary, good) == 0)
            let sandbox = bytes("https://api.sandbox.eu.junction.com/v2/link/connect/oura")
            let production = bytes("https://api.eu.junction.com/v2/link/connect/oura")
            try daemon.waitForWorkers(2)
            let workers = daemon.workers

            // It passes the check, with the real program, and then no worker of it ever gets ready.
            try replace(
                binary,
                with: bytes(
                    "#!/bin/sh\ncase \" $* \" in *\" --reload-check \"*) exec \"\(good)\" \"$@\" ;; esac\nexit 3\n"))
            try replace(settings, with: bytes("OAUTH_FORWARD_TARGET=production-eu\n"))
            daemon.process.send(SIGHUP)
            try waitForLog(containing: "event=reload_failed ", in: { daemon.log }, timeout: 20)
            #expect(daemon.log.contains("a new worker exited before it was ready"), "\(daemon.log)")
            // The two new workers, stopped, are reaped before the workers are counted.
            try waitForLog(containing: "event=worker_retired ", count: 2, in: { daemon.log }, timeout: 20)
            #expect(daemon.process.wait(timeout: 0) == nil, "\(daemon.log)")
            #expect(Self.image(of: supervisor) == Self.identity(of: good))
            #expect(daemon.workers.sorted() == workers.sorted())
            for index in 0..<4 {
                #expect(
                    try daemon.get(query: "a=\(index)").stdout == Daemon.redirect(to: sandbox + bytes("?a=\(index)")))
            }

            // Workers that die are replaced from the running image, whatever is on disk: the script, then nothing.
            for (round, worker) in workers.enumerated() {
                if round == 1 { unlink(binary) }
                kill(worker, SIGKILL)
                try waitForLog(containing: "event=worker_exit ", count: round + 1, in: { daemon.log }, timeout: 20)
                try daemon.waitForWorkers(2)
                for replacement in daemon.workers {
                    #expect(Self.image(of: replacement) == Self.identity(of: good), "\(daemon.log)")
                }
                for index in 0..<4 {
                    #expect(
                        try daemon.get(query: "r\(round)=\(index)").stdout
                            == Daemon.redirect(to: sandbox + bytes("?r\(round)=\(index)")))
                }
            }
            #expect(!daemon.log.contains("spawn_error"), "\(daemon.log)")

            // The real program back: the configuration checked with it is the one that serves.
            #expect(link(good, binary) == 0)
            let retired = daemon.log.components(separatedBy: "event=worker_retired ").count - 1
            daemon.process.send(SIGHUP)
            try waitForLog(containing: "event=reload ", in: { daemon.log }, timeout: 20)
            // Once the old workers are gone, every connection is the new program's.
            try waitForLog(containing: "event=worker_retired ", count: retired + 2, in: { daemon.log }, timeout: 20)
            #expect(try daemon.get(query: "b=1").stdout == Daemon.redirect(to: production + bytes("?b=1")))
        }

        /// The configuration is read once per reload. The file is changed to one the program refuses while the
        /// check runs: the reload goes through with the bytes the check saw, and the daemon serves them.
        @Test func configurationIsReadOnce() throws {
            let settings = try makeScratchDirectory("read-once") + "/settings"
            try replace(settings, with: bytes("OAUTH_FORWARD_TARGET=sandbox-eu\n"))
            let daemon = try Daemon(["--config", settings, "--workers", "2", "--threads", "2"], environment: [])
            let supervisor = daemon.process.pid
            try daemon.waitForWorkers(2)
            try replace(settings, with: bytes("OAUTH_FORWARD_TARGET=production-eu\n"))
            daemon.process.send(SIGHUP)
            // The check is a child of the supervisor with --reload-check on its command line.
            let checking = waitUntil(timeout: .seconds(20), every: .microseconds(500)) {
                Daemon.children(of: supervisor).contains(where: Self.isReloadCheck)
            }
            try #require(checking, "no reload check was seen\n\(daemon.log)")
            try replace(settings, with: bytes("OAUTH_FORWARD_TARGT=production-us\n"))
            try waitForLog(containing: "event=reload ", in: { daemon.log }, timeout: 20)
            #expect(!daemon.log.contains("reload_failed"), "\(daemon.log)")
            // Once the old workers are gone, every connection is the new program's.
            try waitForLog(containing: "event=worker_retired ", count: 2, in: { daemon.log }, timeout: 20)
            let production = bytes("https://api.eu.junction.com/v2/link/connect/oura")
            #expect(try daemon.get(query: "c=1").stdout == Daemon.redirect(to: production + bytes("?c=1")))
            #expect(daemon.process.wait(timeout: 0) == nil)
        }

        /// A reload cannot move the socket: a `--listen` changed in the settings file, to a socket another service
        /// owns, is refused, and the daemon serves on where it was. At stop it removes its own socket file and
        /// nothing else, and not even that once something else has replaced it.
        @Test(arguments: [false, true])
        func changedListenIsRefusedAndStopRemovesOnlyItsOwnSocket(ownSocketReplaced: Bool) throws {
            let directory = try makeScratchDirectory("listen")
            let (own, others) = (directory + "/own.sock", directory + "/other.sock")
            let settings = directory + "/settings"
            func configure(_ listen: String) throws {
                try replace(settings, with: bytes("OAUTH_FORWARD_OPTIONS=--listen \(listen) --workers 2 --threads 2\n"))
            }
            try configure(own)
            let process = try ChildProcess(
                Binary.path, ["serve", "--config", settings],
                environment: [("OAUTH_FORWARD_TARGET", bytes("production-us"))])
            defer { process.stop() }
            let log = { String(decoding: process.stderr, as: UTF8.self) }
            let serving = waitUntil(timeout: .seconds(30)) { Daemon.aWorkerAnswers(at: own) || !process.isRunning }
            try #require(serving && process.isRunning, "\(log())")
            // A reload with the same socket goes through, and the socket file stays the daemon's.
            process.send(SIGHUP)
            try waitForLog(containing: "event=reload ", in: log, timeout: 20)

            let other = try ServerSuites.ProbeTests.silentSocket(at: others, listening: true)
            try configure(others)
            process.send(SIGHUP)
            try waitForLog(containing: "event=reload_failed ", in: log, timeout: 20)
            #expect(log().contains("is not the socket the daemon serves"), "\(log())")
            #expect(Daemon.aWorkerAnswers(at: own))

            var stranger: Descriptor?
            if ownSocketReplaced {
                unlink(own)
                stranger = try ServerSuites.ProbeTests.silentSocket(at: own, listening: true)
            }
            process.send(SIGTERM)
            #expect(process.wait(timeout: 15) == 0, "\(log())")
            #expect(access(others, F_OK) == 0, "the daemon removed another service's socket")
            #expect((access(own, F_OK) == 0) == ownSocketReplaced, "\(log())")
            _ = other
            _ = stranger
        }

        /// A SIGHUP while the daemon is still reading its configuration, before any handler is in place, waits and
        /// is then taken as a reload: it does not kill the daemon. The configuration comes through a FIFO, so that
        /// the signal lands at a known point of the start.
        @Test func hangupWhileStartingIsNotFatal() throws {
            let directory = try makeScratchDirectory("early-hup")
            let fifo = directory + "/settings"
            let socket = directory + "/fcgi.sock"
            try #require(mkfifo(fifo, 0o600) == 0)
            let process = try ChildProcess(
                Binary.path, ["serve", "--listen", socket, "--config", fifo, "--workers", "1", "--threads", "1"],
                environment: [])
            defer { process.stop() }
            let log = { String(decoding: process.stderr, as: UTF8.self) }
            // Opening the FIFO for writing succeeds once the program has opened it for reading: it is in main.
            var writer: Int32 = -1
            let reading = waitUntil(timeout: .seconds(30), every: .microseconds(200)) {
                writer = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
                return writer >= 0 || errno != ENXIO || !process.isRunning
            }
            try #require(reading && writer >= 0, "\(log())")
            process.send(SIGHUP)
            writeAll(bytes("OAUTH_FORWARD_TARGET=production-us\n"), to: writer)
            close(writer)
            try waitForLog(containing: "event=reload_requested ", in: log, timeout: 20)
            #expect(process.wait(timeout: 0) == nil, "\(log())")
            let answer = Daemon.firstAnswer(at: socket, query: "e=1")
            #expect(answer.stdout == Daemon.redirect(to: Daemon.productionOura + bytes("?e=1")), "\(log())")
            // A FIFO cannot be read again the same way: the reload says so, and changes nothing.
            #expect(log().contains("is not a regular file"), "\(log())")
            process.send(SIGTERM)
            #expect(process.wait(timeout: 15) == 0, "\(log())")
        }

        /// The file a process runs, as the kernel knows it.
        static func image(of pid: pid_t) -> String? { identity(of: "/proc/\(pid)/exe") }

        static func identity(of path: String) -> String? {
            var status = stat()
            guard stat(path, &status) == 0 else { return nil }
            return "\(status.st_dev):\(status.st_ino)"
        }

        static func isReloadCheck(_ pid: pid_t) -> Bool {
            let commandLine = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
            return commandLine.split(separator: 0).contains { Array($0) == bytes("--reload-check") }
        }
    }
}
