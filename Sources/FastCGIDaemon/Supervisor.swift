import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's first process. It only supervises: it starts the workers, each a fresh exec of this binary
/// serving the shared socket on fd 0, replaces any that dies, on SIGTERM or SIGINT stops them all, and on SIGHUP
/// reloads: it re-executes the binary on disk, which takes over the socket and the running workers.
///
/// Separate processes, because Debian's libfcgi 2.4.2 aborts the whole process on two crafted records
/// (docs/LIBFCGI.md): a crash costs the connections of one worker, not the service.
package struct Supervisor {
    let listener: Listener
    let workers: Int
    let workerSettings: WorkerSettings
    /// Extra environment for the workers: the process-level target and allowlist given as flags.
    let environment: [(String, String)]
    /// This program's version, which a reload hands on to the next.
    let version: String
    /// The command line this process was started with, byte for byte: a reload runs it again.
    let commandLine: [[UInt8]]
    /// The generation before, when this process is the new program of a reload.
    let handover: Handover?
    /// How long the workers go on serving after SIGTERM or SIGINT, before they are stopped (`--stop-delay`).
    let stopDelay: Duration

    package init(
        listener: Listener, workers: Int, workerSettings: WorkerSettings, environment: [(String, String)],
        version: String, commandLine: [[UInt8]], handover: Handover?, stopDelay: Duration = .zero
    ) {
        self.listener = listener
        self.workers = workers
        self.workerSettings = workerSettings
        self.environment = environment
        self.version = version
        self.commandLine = commandLine
        self.handover = handover
        self.stopDelay = stopDelay
    }

    /// What `--stop-delay` may be.
    package static let stopDelayRange = Duration.zero...Duration.seconds(300)

    /// The most a replacement waits when no worker is left.
    static let delayWithNoWorkerLeft = Duration.milliseconds(100)
    /// How long a reload's new workers have to say they serve before the reload is given up.
    static let readinessTimeout = Duration.seconds(10)

    /// A worker of the current generation.
    private struct Running {
        let pid: pid_t
        let started: ContinuousClock.Instant
        /// The read end of the pipe the worker writes a byte to once it serves; -1 once that byte was read.
        var readyFD: Int32
        var isReady = false

        /// Reads the ready byte if it came: true when ready, false when the worker ended without it, nil when
        /// neither has happened yet.
        mutating func readiness() -> Bool? {
            guard !isReady else { return true }
            var byte: UInt8 = 0
            let count = read(readyFD, &byte, 1)
            if count < 0 { return nil }
            close(readyFD)
            readyFD = -1
            isReady = count == 1
            return isReady
        }
    }

    /// A worker of the generation before a reload, finishing what it holds.
    private struct Retiring {
        let pid: pid_t
        let deadline: ContinuousClock.Instant
    }

    package func run() -> Int32 {
        Shutdown.install(worker: false)
        SupervisorSignals.install()
        // Read now: once a package upgrade has replaced the file, /proc/self/exe names it "(deleted)".
        let executable = ProcessIO.executablePath() ?? "/proc/self/exe"
        var running: [Running] = []
        var retiring: [Retiring] = []
        var backoff = RespawnBackoff()
        Log.event(
            "start",
            [
                ("version", version), ("listen", listener.description), ("workers", "\(workers)"),
                ("threads", "\(workerSettings.threads)"),
                ("idle_timeout_ms", "\(workerSettings.idleTimeout.milliseconds)"),
                ("request_timeout_ms", "\(workerSettings.requestTimeout.milliseconds)"),
            ] + (handover.map { [("reload_from", $0.version)] } ?? []))
        for _ in 0..<workers {
            if let worker = spawnWorker(executable) { running.append(worker) }
        }
        if let handover { takeOver(from: handover, running: &running, retiring: &retiring) }
        guard !running.isEmpty else {
            Log.event("fatal", [("reason", "no worker could be started")])
            listener.removeOwnedPath()
            return 1
        }

        while !Shutdown.isRequested {
            if SupervisorSignals.takeHangup() {
                // Returns only when the reload cannot happen: this program serves on.
                reload(executable, handing: running.map(\.pid) + retiring.map(\.pid))
            }
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0, let index = running.firstIndex(where: { $0.pid == pid }) {
                let lifetime = ContinuousClock.now - running[index].started
                let wasReady = running[index].readiness() == true
                if running[index].readyFD >= 0 { close(running[index].readyFD) }
                running.remove(at: index)
                var delay = backoff.delay(afterWorkerLived: lifetime, wasReady: wasReady)
                // The back-off never leaves the socket without a worker: with none running, a hostile peer that
                // crashes each new worker at once would otherwise keep the service down for the whole delay.
                if running.isEmpty { delay = min(delay, Self.delayWithNoWorkerLeft) }
                Log.event(
                    "worker_exit",
                    [("worker", "\(pid)")] + Self.describe(status)
                        + [("ready", wasReady ? "yes" : "no"), ("respawn_in_ms", "\(delay.milliseconds)")])
                if delay > .zero { Shutdown.sleep(milliseconds: delay.milliseconds) }
            } else if pid > 0 && retiring.contains(where: { $0.pid == pid }) {
                retiring.removeAll { $0.pid == pid }
                Log.event("worker_retired", [("worker", "\(pid)")] + Self.describe(status))
                continue
            } else if pid > 0 {
                // Not a worker: as a container's PID 1, this process inherits every orphan in the container (of
                // `podman exec`, say), and reaps them too, or they would stay zombies.
                Log.event("child_reaped", [("child", "\(pid)")] + Self.describe(status))
                continue
            } else {
                let now = ContinuousClock.now
                for worker in retiring where worker.deadline < now { kill(worker.pid, SIGKILL) }
                if running.count >= workers {
                    SupervisorSignals.wait(milliseconds: retiring.isEmpty ? 1000 : 100)
                    continue
                }
            }
            while !Shutdown.isRequested && running.count < workers {
                guard let worker = spawnWorker(executable) else {
                    Shutdown.sleep(milliseconds: 1000)
                    break
                }
                running.append(worker)
            }
        }

        if stopDelay > .zero { serveOn(running: &running, retiring: &retiring) }
        let all = running.map(\.pid) + retiring.map(\.pid)
        Log.event("stopping", [("workers", "\(all.count)"), ("grace_ms", "\(workerSettings.grace.milliseconds)")])
        for pid in all { kill(pid, SIGTERM) }
        // Workers finish what they hold within the grace period; after that and a margin, they are killed.
        var left = Set(all)
        let deadline = ContinuousClock.now + workerSettings.grace + .seconds(1)
        while !left.isEmpty {
            let pid = waitpid(-1, nil, WNOHANG)
            if pid > 0 {
                left.remove(pid)
            } else if pid < 0 && errno == ECHILD {
                break
            } else if ContinuousClock.now > deadline {
                for pid in left { kill(pid, SIGKILL) }
                while waitpid(-1, nil, 0) > 0 {}
                break
            } else {
                usleep(10_000)
            }
        }
        listener.removeOwnedPath()
        Log.event("stopped")
        return 0
    }

    /// Between SIGTERM or SIGINT and the stop, with `--stop-delay`: the workers go on serving, for a web server that
    /// was told to stop at the same moment (the other container of a pod) and still sends the requests it took.
    /// Children that end meanwhile are reaped and not replaced.
    private func serveOn(running: inout [Running], retiring: inout [Retiring]) {
        Log.event("stop_delayed", [("delay_ms", "\(stopDelay.milliseconds)")])
        let end = ContinuousClock.now + stopDelay
        while case let left = end - ContinuousClock.now, left > .zero {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 {
                if let index = running.firstIndex(where: { $0.pid == pid }), running[index].readyFD >= 0 {
                    close(running[index].readyFD)
                }
                running.removeAll { $0.pid == pid }
                retiring.removeAll { $0.pid == pid }
                Log.event("child_exit", [("child", "\(pid)")] + Self.describe(status))
                continue
            }
            SupervisorSignals.wait(milliseconds: min(left.milliseconds, 1000), stopping: true)
        }
    }

    /// The second half of a reload, in the new program: once every new worker serves, the previous generation is
    /// told to retire. If the new workers do not get ready, they are stopped and the previous ones serve on.
    private func takeOver(from handover: Handover, running: inout [Running], retiring: inout [Retiring]) {
        let deadline = ContinuousClock.now + Self.readinessTimeout
        var failure: String?
        while failure == nil && !Shutdown.isRequested {
            let states = running.indices.map { running[$0].readiness() }
            if running.count < workers {
                failure = "only \(running.count) of \(workers) new workers could be started"
            } else if states.contains(false) {
                failure = "a new worker exited before it was ready"
            } else if !states.contains(nil) {
                break
            } else if ContinuousClock.now > deadline {
                failure = "the new workers were not ready within \(Self.readinessTimeout.milliseconds) ms"
            } else {
                var fds = running.filter { !$0.isReady }.map {
                    pollfd(fd: $0.readyFD, events: Int16(POLLIN), revents: 0)
                }
                _ = poll(&fds, nfds_t(fds.count), 50)
            }
        }
        let retireBy = ContinuousClock.now + workerSettings.grace + .seconds(1)
        guard let failure else {
            for pid in handover.workers { kill(pid, SIGQUIT) }
            retiring = handover.workers.map { Retiring(pid: $0, deadline: retireBy) }
            Log.event(
                "reload",
                [
                    ("old_version", handover.version), ("new_version", version), ("workers", "\(running.count)"),
                    ("retiring", "\(handover.workers.count)"),
                ])
            return
        }
        Log.event(
            "reload_failed",
            [("reason", failure), ("old_version", handover.version), ("new_version", version)])
        for worker in running {
            kill(worker.pid, SIGTERM)
            if worker.readyFD >= 0 { close(worker.readyFD) }
        }
        retiring = running.map { Retiring(pid: $0.pid, deadline: retireBy) }
        running = handover.workers.map { Running(pid: $0, started: .now, readyFD: -1, isReady: true) }
    }

    /// Re-executes the binary on disk with this process's command line and environment, after checking that it
    /// starts and accepts them (`serve --reload-check`). The listening socket stays open across the exec, and the
    /// workers stay this pid's children; the new program learns both from `Handover`. Returns only if the reload
    /// cannot happen, having logged why; the workers serve on meanwhile.
    private func reload(_ executable: String, handing workers: [pid_t]) {
        Log.event("reload_requested", [("binary", executable), ("version", version)])
        let check = ReloadCheck.run(
            executable, arguments: commandLine + [Array("--reload-check".utf8)], listenFD: listener.fd)
        guard case .success(let newVersion) = check else {
            if case .failure(let error) = check { Log.event("reload_failed", [("reason", error.message)]) }
            return
        }
        let handover = Handover(listenFD: listener.fd, workers: workers, version: version)
        let descriptorFlags = fcntl(listener.fd, F_GETFD)
        _ = fcntl(listener.fd, F_SETFD, descriptorFlags & ~FD_CLOEXEC)
        var previousMask = SupervisorSignals.blockForExec()
        Log.event("reload_exec", [("binary", executable), ("new_version", newVersion)])
        let error = ProcessIO.execute(
            executable, arguments: commandLine, environment: ["\(Handover.variable)=\(handover.encoded)"],
            replacing: [Handover.variable])
        _ = fcntl(listener.fd, F_SETFD, descriptorFlags)
        pthread_sigmask(SIG_SETMASK, &previousMask, nil)
        Log.event("reload_failed", [("reason", "cannot execute \(executable): \(error.message)")])
    }

    private func spawnWorker(_ executable: String) -> Running? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if listener.fd != 0 {
            posix_spawn_file_actions_adddup2(&actions, listener.fd, 0)
        }
        // The ready pipe: close-on-exec here, its write end the worker's fd 3 (after the listener went to 0).
        var ready: [Int32] = [-1, -1]
        guard pipe(&ready) == 0 else {
            Log.event("spawn_error", [("reason", "pipe: \(errorText())")])
            return nil
        }
        for fd in ready { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(ready[0], F_SETFL, O_NONBLOCK)
        defer { close(ready[1]) }
        posix_spawn_file_actions_adddup2(&actions, ready[1], 3)
        // The worker starts with default dispositions, whatever this process has set, and SIGTERM, SIGINT and SIGQUIT
        // blocked: until its handlers are in place (Shutdown.install, which unblocks them), a stop or a reload
        // waits for them rather than killing it by default action.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var blocked = Shutdown.signalSet(worker: true)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &blocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var settings = workerSettings
        settings.supervisor = getpid()
        settings.readyFD = 3
        let arguments = (["oauth-forward-cgi", "worker"] + settings.arguments).map { Array($0.utf8) }
        // This process's environment as it is, bytes and all, less the variables the flags set, which follow.
        let pid = ProcessIO.spawn(
            executable, arguments: arguments, environment: environment.map { "\($0.0)=\($0.1)" },
            replacing: environment.map(\.0), actions: &actions, attributes: &attributes)
        guard case .success(let pid) = pid else {
            if case .failure(let error) = pid { Log.event("spawn_error", [("reason", error.message)]) }
            close(ready[0])
            return nil
        }
        Log.event("worker_start", [("worker", "\(pid)")])
        return Running(pid: pid, started: .now, readyFD: ready[0])
    }

    static func describe(_ status: Int32) -> [(String, String)] {
        let signal = status & 0x7F
        return signal == 0 ? [("exit", "\((status >> 8) & 0xFF)")] : [("signal", "\(signal)")]
    }
}
