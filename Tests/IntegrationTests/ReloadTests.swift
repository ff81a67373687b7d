import FastCGIDaemon
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerSuites {
    /// SIGHUP to the supervisor: the binary on disk takes over the socket, its workers serve before the old ones
    /// retire, and nothing is lost on the way, through nginx as the example configures it.
    @Suite struct ReloadTests {
        /// Ten reloads in a row under GET and POST callbacks from several clients. POST matters: nginx sends a GET
        /// again on another connection when the first fails, but never a POST, so a kept-alive connection closed
        /// under nginx's feet shows as a 502 only with POST.
        @Test(arguments: [true, false])
        func tenReloadsUnderLoadLoseNothing(upstreamKeepAlive: Bool) throws {
            let setup = try NginxSetup(
                nginxWorkers: 2, daemon: ["serve", "--workers", "2", "--threads", "8"],
                upstreamKeepAlive: upstreamKeepAlive)
            let supervisor = setup.program.server.process.pid
            let load = CallbackLoad(port: setup.port, clients: 4)
            load.start()
            defer { load.stop() }
            let reloads = 10
            for reload in 1...reloads {
                // Some answers before each reload, so that every one happens under traffic.
                try load.waitForAnswers(load.answered + 20)
                kill(supervisor, SIGHUP)
                try waitForLog(containing: "event=reload ", count: reload, in: { setup.program.log }, timeout: 20)
            }
            try load.waitForAnswers(load.answered + 20)
            // Every old worker has finished what it held and gone.
            try waitForLog(
                containing: "event=worker_retired ", count: 2 * reloads, in: { setup.program.log }, timeout: 30)
            load.stop()

            #expect(load.failures.isEmpty, "\(load.failures.prefix(5)) of \(load.answered)\n\(setup.program.log)")
            #expect(load.answered > 20 * (reloads + 1))
            #expect(!setup.program.log.contains("reload_failed"))
            #expect(!setup.program.log.contains("event=worker_exit"), "\(setup.program.log)")
            let accessLog = setup.log("oauth-forward-cgi.access.log")
            #expect(accessLog.contains("\"POST /oauth_callback/oura HTTP/1.1\" 307"))
            for line in accessLog.split(separator: "\n") where !line.contains("\" 307 ") {
                Issue.record("nginx answered other than 307: \(line)")
            }
            let errors = setup.log("oauth-forward-cgi.error.log") + setup.log("error.log")
            for symptom in ["prematurely closed", "failed (", "no live upstreams", "while sending request"] {
                #expect(!errors.contains(symptom), "\(errors)")
            }
            print(
                "reloads=\(reloads) keepalive=\(upstreamKeepAlive) answered=\(load.answered) "
                    + "slowest_ms=\(Int(load.slowest * 1000))")
        }

        /// A reload whose new binary cannot start, or refuses to, changes nothing: the same workers serve on, and
        /// the log says why. Once a good binary is back, the next reload goes through.
        @Test func reloadToABrokenBinaryKeepsServing() throws {
            let daemon = try Daemon(["--workers", "2", "--threads", "2"], ownBinary: true)
            let supervisor = daemon.process.pid
            let binary = daemon.directory + "/bin/oauth-forward-cgi"
            let good = daemon.directory + "/bin/good"
            #expect(link(binary, good) == 0)
            try daemon.waitForWorkers(2)
            let workers = daemon.workers
            let broken: [(content: String, reason: String)] = [
                ("not an executable at all\n", "reason=\"the new binary cannot be started"),
                (
                    "#!/bin/sh\necho 'oauth-forward-cgi: OAUTH_FORWARD_TARGET is not valid' >&2\nexit 2\n",
                    "reason=\"the new binary refused the command line or the configuration (exit 2)"
                ),
            ]
            for (index, (content, reason)) in broken.enumerated() {
                try replace(binary, with: bytes(content))
                kill(supervisor, SIGHUP)
                try waitForLog(containing: "event=reload_failed ", count: index + 1, in: { daemon.log }, timeout: 20)
                #expect(daemon.log.contains(reason), "\(daemon.log)")
                #expect(daemon.workers.sorted() == workers.sorted())
                #expect(
                    try daemon.get(query: "code=\(index)").stdout
                        == Daemon.redirect(to: Daemon.productionOura + bytes("?code=\(index)")))
            }
            #expect(rename(good, binary) == 0)
            kill(supervisor, SIGHUP)
            try waitForLog(containing: "event=reload ", in: { daemon.log }, timeout: 20)
            try waitForLog(containing: "event=worker_retired ", count: 2, in: { daemon.log }, timeout: 20)
            #expect(Set(daemon.workers).isDisjoint(with: workers))
            #expect(
                try daemon.get(query: "after=1").stdout
                    == Daemon.redirect(to: Daemon.productionOura + bytes("?after=1")))
            #expect(daemon.process.pid == supervisor && daemon.process.wait(timeout: 0) == nil)
        }

        /// The settings file (/etc/default/oauth-forward-cgi under systemd) is read again at each reload: a changed
        /// target and a changed worker count take effect, and a file with a mistake is refused with the old one
        /// still serving.
        @Test func reloadAppliesAChangedSettingsFile() throws {
            let directory = try makeScratchDirectory("settings")
            let file = directory + "/oauth-forward-cgi"
            func write(_ text: String) throws { try replace(file, with: bytes(text)) }
            try write("OAUTH_FORWARD_TARGET=sandbox-eu\nOAUTH_FORWARD_OPTIONS=--workers 2 --threads 2\n")
            let daemon = try Daemon(["--config", file], environment: [])
            let supervisor = daemon.process.pid
            let sandbox = bytes("https://api.sandbox.eu.junction.com/v2/link/connect/oura")
            #expect(try daemon.get(query: "a=1").stdout == Daemon.redirect(to: sandbox + bytes("?a=1")))
            try daemon.waitForWorkers(2)

            try write(
                "# changed\nOAUTH_FORWARD_TARGET='production-eu'\nOAUTH_FORWARD_OPTIONS=--workers 3 --threads 2\n")
            kill(supervisor, SIGHUP)
            try waitForLog(containing: "event=reload ", in: { daemon.log }, timeout: 20)
            try waitForLog(containing: "event=worker_retired ", count: 2, in: { daemon.log }, timeout: 20)
            let production = bytes("https://api.eu.junction.com/v2/link/connect/oura")
            #expect(try daemon.get(query: "b=2").stdout == Daemon.redirect(to: production + bytes("?b=2")))
            try daemon.waitForWorkers(3)
            let workers = daemon.workers

            try write("OAUTH_FORWARD_TARGT=sandbox-us\n")
            kill(supervisor, SIGHUP)
            try waitForLog(containing: "event=reload_failed ", in: { daemon.log }, timeout: 20)
            #expect(daemon.log.contains("line 1: OAUTH_FORWARD_TARGT is not a setting this program reads"))
            #expect(try daemon.get(query: "c=3").stdout == Daemon.redirect(to: production + bytes("?c=3")))
            #expect(daemon.workers.sorted() == workers.sorted())
        }

        /// Replaces `path` the way dpkg does: a new file renamed over the old, which running processes keep.
    }
}

/// Replaces the file at `path` by a new one, executable, as a package upgrade does: a process running the old file
/// keeps it, the next exec gets the new one.
func replace(_ path: String, with content: [UInt8]) throws {
    let temporary = path + ".new"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
    try #require(fd >= 0)
    writeAll(content, to: fd)
    close(fd)
    try #require(rename(temporary, path) == 0)
}

/// Clients sending callbacks through a web server until stopped, half GET, half POST (response_mode=form_post),
/// each answer checked byte for byte.
final class CallbackLoad: @unchecked Sendable {
    let port: UInt16
    let clients: Int
    private let state = Locked((answered: 0, failures: [String](), slowest: 0.0, stopped: false))
    private let group = DispatchGroup()

    init(port: UInt16, clients: Int) {
        self.port = port
        self.clients = clients
    }

    var answered: Int { state.withLock { $0.answered } }
    var failures: [String] { state.withLock { $0.failures } }
    var slowest: Double { state.withLock { $0.slowest } }

    func start() {
        for client in 0..<clients {
            DispatchQueue.global().async(group: group) { self.run(client: client) }
        }
    }

    func stop() {
        state.withLock { $0.stopped = true }
        group.wait()
    }

    /// Waits until `count` answers have come, or fails after 20 s.
    func waitForAnswers(_ count: Int) throws {
        let reached = waitUntil(timeout: .seconds(20), every: .milliseconds(5)) { answered >= count }
        try #require(reached, "only \(answered) answers: \(failures.prefix(3))")
    }

    private func run(client: Int) {
        var index = 0
        while !state.withLock({ $0.stopped }) {
            index += 1
            let query = "code=c\(client)-\(index)&state=s%2B\(index)"
            let post = index % 2 == 0
            let request = HTTPClient.request(
                post ? "POST" : "GET", bytes("/oauth_callback/oura?" + query),
                body: post ? bytes("code=c\(index)&state=s\(index)") : nil)
            let start = Date()
            let outcome: String?
            do {
                let response = try HTTPClient.exchange(request, port: port)
                let expected = bytes(Callbacks.production + "oura?" + query)
                outcome =
                    response.status == 307 && response.value(of: "Location") == expected
                    ? nil : "\(post ? "POST" : "GET") \(query): \(response.statusLine)"
            } catch {
                outcome = "\(post ? "POST" : "GET") \(query): \(error)"
            }
            let elapsed = Date().timeIntervalSince(start)
            state.withLock {
                $0.answered += 1
                $0.slowest = max($0.slowest, elapsed)
                if let outcome { $0.failures.append(outcome) }
            }
        }
    }
}
