import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Set by the SIGTERM/SIGINT handler or `Shutdown.begin`, read by every thread. A lock-free atomic: safe to store
/// from a signal handler, and a plain `sig_atomic_t` read across threads is a data race (ThreadSanitizer said so).
private let shutdownFlag = Atomic<Bool>(false)
/// The write end of a pipe the handler writes a byte to, so threads sleeping in `poll` wake at once.
nonisolated(unsafe) private var wakeWriteFD: Int32 = -1

/// Graceful shutdown on SIGTERM and SIGINT, for the supervisor and for workers alike.
enum Shutdown {
    /// The read end of the wake pipe: it turns readable, and stays so, once shutdown begins.
    nonisolated(unsafe) private(set) static var wakeFD: Int32 = -1

    static var isRequested: Bool { shutdownFlag.load(ordering: .acquiring) }

    /// Installs the handlers without SA_RESTART, so blocking calls return EINTR, and unblocks both signals, which
    /// a parent may hand down blocked. Also ignores SIGPIPE: a vanished peer is an error to log, not a death.
    static func install() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            }
            wakeFD = fds[0]
            wakeWriteFD = fds[1]
        }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            shutdownFlag.store(true, ordering: .releasing)
            if wakeWriteFD >= 0 {
                var byte: UInt8 = 1
                _ = write(wakeWriteFD, &byte, 1)
            }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGTERM)
        sigaddset(&unblock, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    /// Begins shutdown from ordinary code, as the signal handler would.
    static func begin() {
        shutdownFlag.store(true, ordering: .releasing)
        if wakeWriteFD >= 0 {
            var byte: UInt8 = 1
            _ = write(wakeWriteFD, &byte, 1)
        }
    }

    /// Sleeps up to `milliseconds`, waking early when shutdown begins.
    static func sleep(milliseconds: Int) {
        var pfd = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
        _ = poll(&pfd, 1, Int32(clamping: milliseconds))
    }
}
