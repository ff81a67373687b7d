#if canImport(Glibc)
import Glibc
#endif

/// How a worker serves: its threads and its three time bounds. It owns the defaults and the allowed ranges that
/// `serve` offers as flags, and the arguments the supervisor hands each worker it starts, both ways.
package struct WorkerSettings: Equatable, Sendable {
    /// Connections served at once, one a thread.
    package var threads: Int
    /// How long one read or write may wait.
    package var idleTimeout: Duration
    /// How long a thread may spend on one request in all: waiting for it, reading it, answering it.
    package var requestTimeout: Duration
    /// How long requests in flight may take to finish after SIGTERM.
    package var grace: Duration
    /// A supervisor's pid: when it is gone, the worker shuts down instead of serving on as an orphan.
    package var supervisor: pid_t?
    /// Where the worker writes one byte once it serves (libfcgi set up, every thread polling the socket), for the
    /// supervisor's back-off.
    package var readyFD: Int32?

    package static let defaultThreads = 16
    package static let defaultIdleTimeout = Duration.seconds(5)
    package static let defaultRequestTimeout = Duration.seconds(30)
    package static let defaultGrace = Duration.seconds(10)

    package static let threadRange = 1...1024
    package static let timeoutRange = Duration.milliseconds(100)...Duration.seconds(3600)
    package static let graceRange = Duration.zero...Duration.seconds(3600)

    package init(
        threads: Int = defaultThreads, idleTimeout: Duration = defaultIdleTimeout,
        requestTimeout: Duration = defaultRequestTimeout, grace: Duration = defaultGrace, supervisor: pid_t? = nil,
        readyFD: Int32? = nil
    ) {
        self.threads = threads
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.grace = grace
        self.supervisor = supervisor
        self.readyFD = readyFD
    }

    /// Under a FastCGI spawner (spawn-fcgi, mod_fcgid): one request at a time, as they expect.
    package static let spawned = WorkerSettings(threads: 1)

    /// The arguments after `worker` that the supervisor starts a worker with.
    package var arguments: [String] {
        var arguments = [
            "--threads", String(threads), "--idle-timeout-ms", String(idleTimeout.milliseconds),
            "--request-timeout-ms", String(requestTimeout.milliseconds), "--grace-ms", String(grace.milliseconds),
        ]
        if let supervisor { arguments += ["--supervisor", String(supervisor)] }
        if let readyFD { arguments += ["--ready-fd", String(readyFD)] }
        return arguments
    }

    /// Reads what `arguments` wrote; nil for anything else.
    package init?(arguments: [String]) {
        var values: [String: Int] = [:]
        var remaining = arguments[...]
        while let name = remaining.popFirst() {
            guard let text = remaining.popFirst(), let value = Int(text), values[name] == nil else { return nil }
            values[name] = value
        }
        guard let threads = values.removeValue(forKey: "--threads"),
            let idle = values.removeValue(forKey: "--idle-timeout-ms"),
            let request = values.removeValue(forKey: "--request-timeout-ms"),
            let grace = values.removeValue(forKey: "--grace-ms")
        else { return nil }
        let supervisor = values.removeValue(forKey: "--supervisor").map { pid_t(truncatingIfNeeded: $0) }
        let readyFD = values.removeValue(forKey: "--ready-fd").map { Int32(truncatingIfNeeded: $0) }
        guard values.isEmpty else { return nil }
        self.init(
            threads: threads, idleTimeout: .milliseconds(idle), requestTimeout: .milliseconds(request),
            grace: .milliseconds(grace), supervisor: supervisor, readyFD: readyFD)
    }
}
