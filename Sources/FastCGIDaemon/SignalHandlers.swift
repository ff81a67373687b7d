import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// The code a signal runs, and the state it touches; nothing else belongs in this file. It must be
// async-signal-safe: lock-free atomic stores, one raw `write`, and `errno` saved and restored, since the code the
// signal interrupted may be about to read it. So it makes its call raw, outside `SystemCall`, and
// scripts/check-system-calls leaves this file out of its rule. `Shutdown` and `SupervisorSignals` install them.

/// Set by the SIGTERM/SIGINT handler or `Shutdown.begin`, read by every thread. A lock-free atomic: safe to store
/// from a signal handler, and a plain `sig_atomic_t` read across threads is a data race (ThreadSanitizer said so).
let shutdownFlag = Atomic<Bool>(false)
/// Set with `shutdownFlag` when a worker was told to retire (SIGQUIT) rather than to stop.
let retireFlag = Atomic<Bool>(false)
/// The write end of a pipe the handler writes a byte to, so threads sleeping in `poll` wake at once.
nonisolated(unsafe) var wakeWriteFD: Int32 = -1

/// Set by the SIGHUP handler, taken by the supervisor's loop.
let hangupFlag = Atomic<Bool>(false)
/// The write end of the supervisor's event pipe.
nonisolated(unsafe) var eventWriteFD: Int32 = -1

enum SignalHandlers {
    /// SIGTERM, SIGINT and SIGQUIT, in the supervisor and in the workers (`Shutdown`).
    static let shutdown: @convention(c) (Int32) -> Void = { signal in
        // The write may fail (a full pipe: EAGAIN), and the code the signal interrupted may be about to read errno.
        let saved = errno
        if signal == SIGQUIT { retireFlag.store(true, ordering: .releasing) }
        shutdownFlag.store(true, ordering: .releasing)
        if wakeWriteFD >= 0 {
            var byte: UInt8 = 1
            _ = write(wakeWriteFD, &byte, 1)
        }
        errno = saved
    }

    /// SIGHUP and SIGCHLD, in the supervisor (`SupervisorSignals`).
    static let supervisor: @convention(c) (Int32) -> Void = { signal in
        if signal == SIGHUP { hangupFlag.store(true, ordering: .releasing) }
        let saved = errno
        var byte: UInt8 = 1
        _ = write(eventWriteFD, &byte, 1)
        errno = saved
    }
}
