import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The program running as `serve`, a supervisor and its workers, on a unix socket in a scratch directory.
final class Daemon: @unchecked Sendable {
    let directory: String
    let socketPath: String
    let process: ChildProcess

    static let productionOura = bytes("https://api.us.junction.com/v2/link/connect/oura")

    /// Starts `oauth-forward-cgi serve --listen <socket> <arguments>` and waits until it answers.
    init(
        _ arguments: [String] = [],
        environment: [(String, [UInt8])] = [("OAUTH_FORWARD_TARGET", bytes("production-us"))],
        launcher: [String] = [], ownBinary: Bool = false
    ) throws {
        directory = try makeScratchDirectory("daemon")
        socketPath = directory + "/fcgi.sock"
        // A copy of its own, which a test may replace, as a package upgrade replaces the installed binary.
        let binary = ownBinary ? try installBinary(in: directory) : Binary.path
        let command = launcher.isEmpty ? binary : launcher[0]
        let commandArguments =
            launcher.isEmpty
            ? ["serve", "--listen", socketPath] + arguments
            : Array(launcher.dropFirst()) + arguments
        process = try ChildProcess(command, commandArguments, environment: environment)
        // Generous: on a loaded machine, starting the debug build has taken seconds. A daemon that works is
        // waited for only as long as it takes.
        let answers = waitUntil(timeout: .seconds(30)) { !process.isRunning || Self.aWorkerAnswers(at: socketPath) }
        guard answers, process.isRunning else {
            throw ChildProcessError.timedOut("daemon: \(String(decoding: process.stderr, as: UTF8.self))")
        }
    }

    /// Whether a worker takes a connection and answers on it: a GET_VALUES record, which libfcgi answers itself,
    /// so no request reaches the log. (libfcgi answers one once the next record's header arrives, hence two.) A bare
    /// connect is not enough: it succeeds once the supervisor listens, and the connection, left in the backlog, was
    /// then taken by a worker at any later moment, where a test waiting for a worker to hold its own connection
    /// could see that one instead.
    static func aWorkerAnswers(at path: String) -> Bool {
        guard let probe = try? FastCGIConnection(unixPath: path, timeout: 5) else { return false }
        let getValues = FastCGIRecord.record(
            type: FastCGIRecord.getValues, requestID: 0, content: [14, 0] + bytes("FCGI_MAX_CONNS"))
        probe.send(getValues + getValues)
        return probe.readRecord()?.type == FastCGIRecord.getValuesResult
    }

    deinit { process.stop() }

    var log: String { String(decoding: process.stderr, as: UTF8.self) }

    /// One request to a socket that a process is still starting to serve: connects as soon as it can, within 5 s.
    static func firstAnswer(at path: String, query: String) -> FastCGIAnswer {
        var connection: FastCGIConnection?
        _ = waitUntil(timeout: .seconds(5)) {
            connection = try? FastCGIConnection(unixPath: path)
            return connection != nil
        }
        guard let connection else { return FastCGIAnswer() }
        connection.send(FastCGIRecord.request(parameters(query: query)))
        return connection.readAnswer()
    }

    /// One request on a new connection; the answer's stdout. The timeout only bounds a failure: tests that time
    /// the daemon measure the time themselves.
    func get(query: String, path: String = "/oura", timeout: Double = 15) throws -> FastCGIAnswer {
        let connection = try FastCGIConnection(unixPath: socketPath, timeout: timeout)
        connection.send(FastCGIRecord.request(Self.parameters(path: path, query: query)))
        return connection.readAnswer()
    }

    static func parameters(method: String = "GET", path: String = "/oura", query: String) -> [(String, [UInt8])] {
        [("REQUEST_METHOD", bytes(method)), ("PATH_INFO", bytes(path)), ("QUERY_STRING", bytes(query))]
    }

    /// The exact bytes of a 307 to `location`, as the program writes them in CGI and FastCGI mode alike: the one
    /// copy of the expected answer for every test that reads raw output.
    static func redirect(to location: [UInt8]) -> [UInt8] {
        bytes("Location: ") + location + bytes("\r\nStatus: 307 Temporary Redirect")
            + bytes("\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nContent-Length: 0\r\n\r\n")
    }

    /// The CGI answer to a reachability check (a GET or HEAD without a query), written out here independently.
    static func reachability(of provider: String, head: Bool = false) -> [UInt8] {
        let body = Callbacks.reachabilityText(of: provider)
        return bytes(
            "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"
                + "Referrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n" + (head ? "" : body))
    }

    /// The processes whose parent is `pid`, from /proc.
    static func children(of pid: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let child = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == pid ? child : nil
        }
    }

    /// The supervisor's pid: the launched process itself, or its child when a launcher execs it.
    var workers: [pid_t] { Self.children(of: process.pid) }

    /// Waits until the workers hold some connection (`true`) or none at all (`false`), as their descriptors in
    /// /proc show: each connection a worker holds is a socket beside its listener on fd 0. The test process is the
    /// only client, so this tells when a connection it made has been accepted, and when the one the start-up probe
    /// made has been let go.
    func waitUntilWorkers(holdConnections: Bool, timeout: Double = 10) throws {
        let settled = waitUntil(timeout: .seconds(timeout)) {
            workers.contains(where: { Self.socketCount($0) > 1 }) == holdConnections
        }
        let seen = holdConnections ? "never took" : "kept"
        try #require(settled, "workers \(seen) a connection: \(workers.map(Self.descriptors))\n\(log)")
    }

    /// A POST that a worker holds, reading it: everything but the end of the body has been sent. Waits for the
    /// workers to let go of the start-up probe first, and then for one to take this connection.
    func requestInFlight(query: String) throws -> FastCGIConnection {
        try waitUntilWorkers(holdConnections: false)
        let connection = try FastCGIConnection(unixPath: socketPath, timeout: 10)
        connection.send(
            FastCGIRecord.begin(role: FastCGIRecord.responder)
                + FastCGIRecord.params(Self.parameters(method: "POST", query: query)))
        try waitUntilWorkers(holdConnections: true)
        return connection
    }

    /// Waits until the supervisor has exactly `count` workers.
    func waitForWorkers(_ count: Int, timeout: Double = 10) throws {
        let counted = waitUntil(timeout: .seconds(timeout), every: .milliseconds(20)) { workers.count == count }
        try #require(counted, "expected \(count) workers, saw \(workers.count)\n\(log)")
    }

    /// What each open descriptor of `pid` points at, for a failure message.
    static func descriptors(_ pid: pid_t) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        return entries.sorted().map { entry in
            "\(entry)="
                + ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(entry)")) ?? "?")
        }
    }

    /// Open sockets: the listener and the connections. Pipes and epoll sets are left out, since each thread makes
    /// its own as it starts, which a slow start (a sanitizer build) can put after the first count.
    static func socketCount(_ pid: pid_t) -> Int {
        descriptors(pid).filter { $0.contains("=socket:") }.count
    }
}
