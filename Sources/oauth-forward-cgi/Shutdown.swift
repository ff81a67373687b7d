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

/// A POSIX thread running a Swift closure. Only the daemon makes threads; Foundation stays out of the binary.
enum Threads {
    private final class Start {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func spawn(stackSize: Int = 512 << 10, _ body: @escaping () -> Void) -> pthread_t? {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Start(body)).toOpaque()
        let result = pthread_create(
            &thread, &attributes,
            { context in
                Unmanaged<Start>.fromOpaque(context!).takeRetainedValue().body()
                return nil
            }, context)
        guard result == 0 else {
            Unmanaged<Start>.fromOpaque(context).release()
            return nil
        }
        // Nobody joins these threads: the worker counts them out as they finish, then exits.
        pthread_detach(thread)
        return thread
    }
}

/// A counter and a table shared by a worker's threads, behind one mutex.
final class Guarded<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(&value)
    }
}
