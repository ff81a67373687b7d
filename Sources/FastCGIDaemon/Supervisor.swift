import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's first process. It only supervises: it starts the workers, each a fresh exec of this binary
/// serving the shared socket on fd 0, replaces any that dies, on SIGTERM, SIGINT or SIGQUIT stops them all, and on
/// SIGHUP reloads: it starts a new generation of workers from the binary on disk, with the configuration read once,
/// and once they serve re-executes that binary, which takes over the socket and the workers.
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
    /// `--config`, which a reload reads again, once.
    let configPath: String?

    package init(
        listener: Listener, workers: Int, workerSettings: WorkerSettings, environment: [(String, String)],
        version: String, commandLine: [[UInt8]], handover: Handover?, stopDelay: Duration = .zero,
        configPath: String? = nil
    ) {
        self.listener = listener
        self.workers = workers
        self.workerSettings = workerSettings
        self.environment = environment
        self.version = version
        self.commandLine = commandLine
        self.handover = handover
        self.stopDelay = stopDelay
        self.configPath = configPath
    }

    /// The most a configuration file may hold.
    package static let configurationLimit = 65536
    /// Where workers are spawned from: the image this process runs, whatever the path on disk holds now.
    static let runningImage = "/proc/self/exe"

    /// Holds back the stop signals and SIGHUP from the first line of `serve` until `run` has installed their
    /// handlers: one that comes meanwhile waits, and is acted on then, instead of killing the daemon by default.
    package static func holdSignals() {
        var held = sigset_t()
        sigemptyset(&held)
        for signal in [SIGTERM, SIGINT, SIGQUIT, SIGHUP] { sigaddset(&held, signal) }
        BestEffort.setSignalMask(SIG_BLOCK, &held)
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
            // Not yet (EAGAIN): the pipe is non-blocking.
            guard let count = try? SystemCall.read(readyFD, &byte, 1) else { return nil }
            BestEffort.close(readyFD)
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
        // Where a reload finds the binary that replaced this one, read now: once a package upgrade has replaced
        // the file, /proc/self/exe names it "(deleted)".
        let onDisk = ProcessIO.executablePath() ?? Self.runningImage
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
        if let handover {
            takeOver(from: handover, running: &running, retiring: &retiring)
        } else {
            for _ in 0..<workers {
                if let worker = spawnWorker(Self.runningImage) { running.append(worker) }
            }
        }
        guard !running.isEmpty else {
            Log.event("fatal", [("reason", "no worker could be started")])
            listener.removeOwnedPath()
            return 1
        }

        while !Shutdown.isRequested {
            if SupervisorSignals.takeHangup() {
                // Returns only when the reload did not happen: this program serves on, as it was.
                reload(onDisk, running: running, retiring: &retiring)
                continue
            }
            // None ended, or no child at all (ECHILD): the same to this loop.
            let (pid, status) = (try? SystemCall.waitpid(-1, options: WNOHANG)) ?? (0, 0)
            if pid > 0, let index = running.firstIndex(where: { $0.pid == pid }) {
                let lifetime = ContinuousClock.now - running[index].started
                let wasReady = running[index].readiness() == true
                if running[index].readyFD >= 0 { BestEffort.close(running[index].readyFD) }
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
                // A retiring worker is this process's child until it is reaped, so its pid cannot be reused meanwhile.
                retiring.removeAll { $0.deadline < now && !Self.signal($0.pid, SIGKILL) }
                if running.count >= workers {
                    SupervisorSignals.wait(milliseconds: retiring.isEmpty ? 1000 : 100)
                    continue
                }
            }
            while !Shutdown.isRequested && running.count < workers {
                guard let worker = spawnWorker(Self.runningImage) else {
                    Shutdown.sleep(milliseconds: 1000)
                    break
                }
                running.append(worker)
            }
        }

        if stopDelay > .zero { serveOn(running: &running, retiring: &retiring) }
        let all = running.map(\.pid) + retiring.map(\.pid)
        Log.event("stopping", [("workers", "\(all.count)"), ("grace_ms", "\(workerSettings.grace.milliseconds)")])
        for pid in all { BestEffort.kill(pid, SIGTERM) }
        // Workers finish what they hold within the grace period; after that and a margin, they are killed.
        var left = Set(all)
        let deadline = ContinuousClock.now + workerSettings.grace + .seconds(1)
        while !left.isEmpty {
            let ended: (pid: pid_t, status: Int32)?
            do {
                ended = try SystemCall.waitpid(-1, options: WNOHANG)
            } catch let error where error.code == ECHILD {
                break
            } catch {
                ended = nil
            }
            if let ended {
                left.remove(ended.pid)
            } else if ContinuousClock.now > deadline {
                for pid in left { BestEffort.kill(pid, SIGKILL) }
                // Every child, until none is left (ECHILD).
                while (try? SystemCall.waitpid(-1, options: 0)) != nil {}
                break
            } else {
                BestEffort.sleep(microseconds: 10_000)
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
            // None ended, or no child at all (ECHILD): the same here.
            if case let (pid, status)? = try? SystemCall.waitpid(-1, options: WNOHANG) {
                if let index = running.firstIndex(where: { $0.pid == pid }), running[index].readyFD >= 0 {
                    BestEffort.close(running[index].readyFD)
                }
                running.removeAll { $0.pid == pid }
                retiring.removeAll { $0.pid == pid }
                Log.event("child_exit", [("child", "\(pid)")] + Self.describe(status))
                continue
            }
            SupervisorSignals.wait(milliseconds: min(left.milliseconds, 1000), stopping: true)
        }
    }

    /// The second half of a reload, in the new program: the new workers already serve, and the generations before
    /// are told to retire.
    private func takeOver(from handover: Handover, running: inout [Running], retiring: inout [Retiring]) {
        running = handover.workers.map { Running(pid: $0, started: .now, readyFD: -1, isReady: true) }
        let retireBy = ContinuousClock.now + workerSettings.grace + .seconds(1)
        retiring = handover.retiring.filter { Self.signal($0, SIGQUIT) }.map {
            Retiring(pid: $0, deadline: retireBy)
        }
        Log.event(
            "reload",
            [
                ("old_version", handover.version), ("new_version", version), ("workers", "\(running.count)"),
                ("retiring", "\(retiring.count)"),
            ])
    }

    /// A reload, in the running program. It reads the configuration file once, into a sealed snapshot, and opens
    /// the binary on disk once; the check, the new workers and the exec all use those two. The new binary checks
    /// the snapshot and says how it runs its workers (`ReloadCheck`); this process starts them from it and waits
    /// until each serves. Only then does it re-execute that binary with a `Handover`: the socket and the snapshot
    /// stay open across the exec, and every worker stays this pid's child. Anything that fails on the way, and a
    /// stop signal, ends the reload with nothing changed: the new workers are stopped, and the running program
    /// serves on, or stops, as it was. Returns only then, having logged why.
    private func reload(_ onDisk: String, running: [Running], retiring: inout [Retiring]) {
        Log.event("reload_requested", [("binary", onDisk), ("version", version)])
        var configFD: Int32?
        if let configPath {
            switch ConfigurationSnapshot.make(path: configPath, limit: Self.configurationLimit) {
            case .success(let fd): configFD = fd
            case .failure(let error):
                return Log.event("reload_failed", [("reason", "--config \(configPath) \(error.message)")])
            }
        }
        defer { if let configFD { BestEffort.close(configFD) } }
        let binary: Int32
        do {
            binary = try SystemCall.open(onDisk, O_RDONLY | O_CLOEXEC)
        } catch {
            return Log.event("reload_failed", [("reason", "cannot open \(onDisk): \(error.message)")])
        }
        defer { BestEffort.close(binary) }
        // This process's descriptor by a path that the check and the workers can execute: their own descriptors
        // are being rearranged when they do.
        let image = "/proc/\(SystemCall.getpid())/fd/\(binary)"
        let protocolArguments =
            ["--reload-check", "--handover-protocol", "\(Handover.protocolVersion)"]
            + (configFD == nil ? [] : ["--config-fd", "3"])
        let plan: ReloadPlan
        switch ReloadCheck.run(
            image, arguments: commandLine + protocolArguments.map { Array($0.utf8) }, listenFD: listener.fd,
            configFD: configFD)
        {
        case .success(let checked): plan = checked
        case .failure(let error): return Log.event("reload_failed", [("reason", error.message)])
        }

        var fresh: [Running] = []
        for _ in 0..<plan.workers {
            guard let worker = spawnWorker(image, settings: plan.workerSettings, environment: plan.environmentPairs)
            else { break }
            fresh.append(worker)
        }
        let retireBy = ContinuousClock.now + workerSettings.grace + .seconds(1)
        func abandon(_ reason: String) {
            for worker in fresh {
                BestEffort.kill(worker.pid, SIGTERM)
                if worker.readyFD >= 0 { BestEffort.close(worker.readyFD) }
            }
            retiring += fresh.map { Retiring(pid: $0.pid, deadline: retireBy) }
            Log.event(
                "reload_failed",
                [("reason", reason), ("old_version", version), ("new_version", plan.version)])
        }
        if let failure = Self.awaitReadiness(of: &fresh, count: plan.workers) { return abandon(failure) }

        // From here a stop signal waits for the new program, which acts on it as soon as its handlers are in.
        var previousMask = SupervisorSignals.blockForExec()
        guard !Shutdown.isRequested else {
            BestEffort.setSignalMask(SIG_SETMASK, &previousMask)
            return abandon(ReloadCheckError.abandoned.message)
        }
        let handover = Handover(
            supervisor: SystemCall.getpid(), listenFD: listener.fd, listenSocket: listener.identity,
            socketFile: listener.socketFile?.identity, configFD: configFD, imageFD: binary, workers: fresh.map(\.pid),
            retiring: running.map(\.pid) + retiring.map(\.pid), version: version)
        // Open across the exec: the socket and the configuration for the new program, and the binary for a script
        // interpreter, should the file be one, which opens it by its /proc path only after the exec.
        let inherited = [listener.fd, binary] + (configFD.map { [$0] } ?? [])
        let closedOnExec = inherited.map { (try? SystemCall.isCloseOnExec($0)) ?? true }
        for fd in inherited { BestEffort.setCloseOnExec(fd, false) }
        Log.event("reload_exec", [("binary", onDisk), ("new_version", plan.version)])
        let error = ProcessIO.execute(
            image, arguments: commandLine, environment: ["\(Handover.variable)=\(handover.encoded)"],
            replacing: [Handover.variable])
        for (fd, closeOnExec) in zip(inherited, closedOnExec) { BestEffort.setCloseOnExec(fd, closeOnExec) }
        BestEffort.setSignalMask(SIG_SETMASK, &previousMask)
        abandon("cannot execute \(onDisk): \(error.message)")
    }

    /// Waits until each of a reload's new workers serves; nil then, or why not. A stop signal ends the wait.
    private static func awaitReadiness(of fresh: inout [Running], count: Int) -> String? {
        let deadline = ContinuousClock.now + readinessTimeout
        while true {
            let states = fresh.indices.map { fresh[$0].readiness() }
            if fresh.count < count { return "only \(fresh.count) of \(count) new workers could be started" }
            if states.contains(false) { return "a new worker exited before it was ready" }
            if !states.contains(nil) { return nil }
            if Shutdown.isRequested { return ReloadCheckError.abandoned.message }
            if ContinuousClock.now > deadline {
                return "the new workers were not ready within \(readinessTimeout.milliseconds) ms"
            }
            var fds = fresh.filter { !$0.isReady }.map { pollfd(fd: $0.readyFD, events: Int16(POLLIN), revents: 0) }
            fds.append(pollfd(fd: Shutdown.wakeFD, events: Int16(POLLIN), revents: 0))
            BestEffort.wait(&fds, fds.count, milliseconds: 50)
        }
    }

    /// Starts a worker from `image` (this process's own, or a reload's new binary) with `settings` and `environment`,
    /// this process's own unless given.
    private func spawnWorker(
        _ image: String, settings: WorkerSettings? = nil, environment: [(String, String)]? = nil
    ) -> Running? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if listener.fd != 0 {
            posix_spawn_file_actions_adddup2(&actions, listener.fd, 0)
        }
        // The ready pipe: close-on-exec here, its write end the worker's fd 3 (after the listener went to 0).
        let ready: (read: Int32, write: Int32)
        do {
            ready = try ProcessIO.pipe(nonBlockingWrite: false)
        } catch {
            Log.event("spawn_error", [("reason", "pipe: \(error.message)")])
            return nil
        }
        defer { BestEffort.close(ready.write) }
        posix_spawn_file_actions_adddup2(&actions, ready.write, 3)
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

        var settings = settings ?? workerSettings
        settings.supervisor = SystemCall.getpid()
        settings.readyFD = 3
        let arguments = (["oauth-forward-cgi", "worker"] + settings.arguments).map { Array($0.utf8) }
        // This process's environment as it is, bytes and all, less the variables the flags set, which follow.
        let environment = environment ?? self.environment
        let pid = ProcessIO.spawn(
            image, arguments: arguments, environment: environment.map { "\($0.0)=\($0.1)" },
            replacing: environment.map(\.0), actions: &actions, attributes: &attributes)
        guard case .success(let pid) = pid else {
            if case .failure(let error) = pid { Log.event("spawn_error", [("reason", error.message)]) }
            BestEffort.close(ready.read)
            return nil
        }
        Log.event("worker_start", [("worker", "\(pid)")])
        return Running(pid: pid, started: .now, readyFD: ready.read)
    }

    /// Sends `signal` to `pid`: false only when there is no such process (ESRCH).
    private static func signal(_ pid: pid_t, _ signal: Int32) -> Bool {
        do {
            try SystemCall.kill(pid, signal)
            return true
        } catch {
            return error.code != ESRCH
        }
    }

    static func describe(_ status: Int32) -> [(String, String)] {
        let signal = status & 0x7F
        return signal == 0 ? [("exit", "\((status >> 8) & 0xFF)")] : [("signal", "\(signal)")]
    }
}
