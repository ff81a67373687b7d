#if canImport(Glibc)
import Glibc
#endif

/// Graceful shutdown, for the supervisor and for workers alike.
///
/// - SIGTERM and SIGINT stop: a worker finishes the requests it is reading or answering, within the grace period,
///   and closes its idle kept-alive connections at once.
/// - SIGQUIT retires a worker, which the supervisor sends to the previous generation once a reload's new workers
///   serve: it stops accepting, and serves each kept-alive connection until the web server closes it or it idles
///   out (`--idle-timeout`), never closing one after an answer; all within the grace period. Nothing the web server
///   already counts on is cut, so a reload loses nothing.
enum Shutdown {
    /// The read end of the wake pipe: it turns readable, and stays so, once shutdown begins.
    nonisolated(unsafe) private(set) static var wakeFD: Int32 = -1

    static var isRequested: Bool { shutdownFlag.load(ordering: .acquiring) }

    /// Whether shutdown began as a retirement (SIGQUIT).
    static var isRetiring: Bool { retireFlag.load(ordering: .acquiring) }

    /// Installs the handlers without SA_RESTART, so blocking calls return EINTR, and unblocks the signals, which a
    /// parent, or a supervisor re-executing itself, may hand down blocked. Also ignores SIGPIPE: a vanished peer is
    /// an error to log, not a death. Workers ignore SIGHUP, which is the supervisor's alone (a reload), so that a
    /// hangup sent to the whole process group does not stop them. The handler is `SignalHandlers.shutdown`.
    static func install(worker: Bool) {
        if let pipe = try? ProcessIO.pipe(nonBlockingWrite: true) { (wakeFD, wakeWriteFD) = pipe }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SignalHandlers.shutdown
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        for signal in signals(worker: worker) { BestEffort.setAction(signal, &action) }
        if worker { BestEffort.ignore(SIGHUP) }
        var unblock = signalSet(worker: worker)
        BestEffort.setSignalMask(SIG_UNBLOCK, &unblock)
        BestEffort.ignore(SIGPIPE)
    }

    /// The signals that stop a process: SIGTERM and SIGINT, and SIGQUIT, which retires a worker and stops the
    /// supervisor as SIGTERM does.
    static func signals(worker: Bool) -> [Int32] { [SIGTERM, SIGINT, SIGQUIT] }

    /// Those signals as a set, for a signal mask.
    static func signalSet(worker: Bool) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals(worker: worker) { sigaddset(&set, signal) }
        return set
    }

    /// Begins shutdown from ordinary code, as the signal handler would.
    static func begin() {
        shutdownFlag.store(true, ordering: .releasing)
        if wakeWriteFD >= 0 { BestEffort.writeByte(to: wakeWriteFD) }
    }

    /// Sleeps up to `milliseconds`, waking early when shutdown begins.
    static func sleep(milliseconds: Int) {
        var pfd = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
        BestEffort.wait(&pfd, 1, milliseconds: Int32(clamping: milliseconds))
    }
}
