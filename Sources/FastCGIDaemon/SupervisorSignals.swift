#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's two signals besides the stopping ones: SIGHUP asks for a reload, SIGCHLD says a child ended.
/// Each handler writes a byte to a pipe the supervisor's loop polls, so neither is missed between a check and a
/// wait, as a blocking `waitpid` would miss a SIGHUP that came just before it. The handler is
/// `SignalHandlers.supervisor`.
enum SupervisorSignals {
    /// The read end of the event pipe; `drain` empties it.
    nonisolated(unsafe) private(set) static var eventFD: Int32 = -1

    static func install() {
        guard let pipe = try? ProcessIO.pipe(nonBlockingWrite: true) else { return }
        (eventFD, eventWriteFD) = pipe
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SignalHandlers.supervisor
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_NOCLDSTOP
        BestEffort.setAction(SIGHUP, &action)
        BestEffort.setAction(SIGCHLD, &action)
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGHUP)
        sigaddset(&unblock, SIGCHLD)
        BestEffort.setSignalMask(SIG_UNBLOCK, &unblock)
    }

    /// Whether a reload was asked for since the last call.
    static func takeHangup() -> Bool {
        hangupFlag.exchange(false, ordering: .acquiringAndReleasing)
    }

    /// Waits up to `milliseconds` for a signal to the supervisor (SIGHUP, SIGCHLD, or a stopping one), then empties
    /// the event pipe. After a stop began, the shutdown pipe stays readable: `stopping` waits for SIGHUP and SIGCHLD
    /// alone.
    static func wait(milliseconds: Int, stopping: Bool = false) {
        var fds = [
            pollfd(fd: eventFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: Shutdown.wakeFD, events: Int16(POLLIN), revents: 0),
        ]
        BestEffort.wait(&fds, stopping ? 1 : 2, milliseconds: Int32(clamping: milliseconds))
        var buffer = [UInt8](repeating: 0, count: 64)
        // Until it is empty (EAGAIN).
        while let count = try? SystemCall.read(eventFD, &buffer, buffer.count), count > 0 {}
    }

    /// The signals to hold back while the supervisor re-executes itself: the new program installs its handlers,
    /// then unblocks them, and whatever came meanwhile is delivered then rather than lost or fatal.
    static func blockForExec() -> sigset_t {
        var blocked = sigset_t()
        sigemptyset(&blocked)
        for signal in [SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGCHLD] { sigaddset(&blocked, signal) }
        return BestEffort.setSignalMask(SIG_BLOCK, &blocked)
    }
}
