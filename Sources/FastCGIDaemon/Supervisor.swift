import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's first process. It only supervises: it starts the workers, each a fresh exec of this binary
/// serving the shared socket on fd 0, replaces any that dies, and on SIGTERM or SIGINT stops them all.
///
/// Separate processes, because Debian's libfcgi 2.4.2 aborts the whole process on two crafted records
/// (docs/LIBFCGI.md): a crash costs the connections of one worker, not the service.
package struct Supervisor {
    let listener: Listener
    let workers: Int
    let workerSettings: WorkerSettings
    /// Extra environment for the workers: the process-level target and allowlist given as flags.
    let environment: [(String, String)]

    package init(
        listener: Listener, workers: Int, workerSettings: WorkerSettings, environment: [(String, String)]
    ) {
        self.listener = listener
        self.workers = workers
        self.workerSettings = workerSettings
        self.environment = environment
    }

    /// The most a replacement waits when no worker is left.
    static let delayWithNoWorkerLeft = Duration.milliseconds(100)

    private struct Running {
        let pid: pid_t
        let started: ContinuousClock.Instant
        /// The read end of the pipe the worker writes a byte to once it serves.
        let readyFD: Int32

        /// Whether the worker said it was ready before it died. Closes the pipe.
        func wasReady() -> Bool {
            var byte: UInt8 = 0
            let ready = read(readyFD, &byte, 1) == 1
            close(readyFD)
            return ready
        }
    }

    package func run() -> Int32 {
        Shutdown.install()
        var running: [Running] = []
        var backoff = RespawnBackoff()
        Log.event(
            "start",
            [
                ("listen", listener.description), ("workers", "\(workers)"), ("threads", "\(workerSettings.threads)"),
                ("idle_timeout_ms", "\(workerSettings.idleTimeout.milliseconds)"),
                ("request_timeout_ms", "\(workerSettings.requestTimeout.milliseconds)"),
            ])
        for _ in 0..<workers {
            if let worker = spawnWorker() { running.append(worker) }
        }
        guard !running.isEmpty else {
            Log.event("fatal", [("reason", "no worker could be started")])
            listener.removeOwnedPath()
            return 1
        }

        while !Shutdown.isRequested {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, 0)
            if pid < 0 {
                if errno == EINTR { continue }
                // No children left (ECHILD): respawning below brings them back.
                Shutdown.sleep(milliseconds: 100)
            }
            if pid > 0, let index = running.firstIndex(where: { $0.pid == pid }) {
                let lifetime = ContinuousClock.now - running[index].started
                let wasReady = running.remove(at: index).wasReady()
                var delay = backoff.delay(afterWorkerLived: lifetime, wasReady: wasReady)
                // The back-off never leaves the socket without a worker: with none running, a hostile peer that
                // crashes each new worker at once would otherwise keep the service down for the whole delay.
                if running.isEmpty { delay = min(delay, Self.delayWithNoWorkerLeft) }
                Log.event(
                    "worker_exit",
                    [("worker", "\(pid)")] + Self.describe(status)
                        + [("ready", wasReady ? "yes" : "no"), ("respawn_in_ms", "\(delay.milliseconds)")])
                if delay > .zero { Shutdown.sleep(milliseconds: delay.milliseconds) }
            }
            while !Shutdown.isRequested && running.count < workers {
                guard let worker = spawnWorker() else {
                    Shutdown.sleep(milliseconds: 1000)
                    break
                }
                running.append(worker)
            }
        }

        Log.event("stopping", [("workers", "\(running.count)"), ("grace_ms", "\(workerSettings.grace.milliseconds)")])
        for worker in running { kill(worker.pid, SIGTERM) }
        // Workers finish what they hold within the grace period; after that and a margin, they are killed.
        let deadline = ContinuousClock.now + workerSettings.grace + .seconds(1)
        while !running.isEmpty {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 {
                running.removeAll { $0.pid == pid }
            } else if pid < 0 && errno == ECHILD {
                break
            } else if ContinuousClock.now > deadline {
                for worker in running { kill(worker.pid, SIGKILL) }
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

    private func spawnWorker() -> Running? {
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
        // The worker starts with a clean mask and default dispositions, whatever this process has set.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var settings = workerSettings
        settings.supervisor = getpid()
        settings.readyFD = 3
        let arguments = ["oauth-forward-cgi", "worker"] + settings.arguments
        // This process's environment as it is, bytes and all, less the variables the flags set, which follow.
        let overridden = environment.map { Array("\($0.0)=".utf8) }
        var inherited: [UnsafeMutablePointer<CChar>?] = []
        var index = 0
        while let entry = environ[index] {
            let isOverridden = overridden.contains { prefix in
                prefix.indices.allSatisfy { entry[$0] == CChar(bitPattern: prefix[$0]) }
            }
            if !isOverridden { inherited.append(entry) }
            index += 1
        }
        let argv = arguments.map { strdup($0) } + [nil]
        let flags = environment.map { strdup("\($0.0)=\($0.1)") }
        defer {
            argv.forEach { free($0) }
            flags.forEach { free($0) }
        }
        let envp = inherited + flags + [nil]
        var pid: pid_t = 0
        let result = posix_spawn(&pid, Self.executablePath, &actions, &attributes, argv, envp)
        guard result == 0 else {
            Log.event("spawn_error", [("reason", errorText(result))])
            close(ready[0])
            return nil
        }
        Log.event("worker_start", [("worker", "\(pid)")])
        return Running(pid: pid, started: .now, readyFD: ready[0])
    }

    /// This binary's own path, so workers show under its name in `ps`; /proc/self/exe if it cannot be read.
    private static let executablePath: String = {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return "/proc/self/exe" }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    private static func describe(_ status: Int32) -> [(String, String)] {
        let signal = status & 0x7F
        return signal == 0 ? [("exit", "\((status >> 8) & 0xFF)")] : [("signal", "\(signal)")]
    }
}
