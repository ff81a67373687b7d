internal import CEpoll

#if canImport(Glibc)
import Glibc
#endif

/// One thread's wait for a connection: an epoll set with the listener, marked EPOLLEXCLUSIVE so the kernel wakes
/// one waiting thread per connection rather than every thread of every worker, and the shutdown pipe, which wakes
/// them all. (With poll on the shared listener, each connection woke every thread: 11.7 context switches per
/// request in docs/BENCHMARKS.md.)
///
/// A thread that is told a connection waits must try to accept it, even once shutdown has begun: the kernel may
/// have woken no other thread for it. See "Waking for connections" in docs/LIBFCGI.md.
///
/// It owns its epoll descriptor alone: it cannot be copied, and closes the descriptor once, when it goes away.
struct AcceptPoller: ~Copyable {
    enum Event: Equatable {
        case connectionWaiting
        case shutdown
        case interrupted
        case failed(SystemCallError)
    }

    let epoll: Int32
    let wakeFD: Int32

    init(listenFD: Int32, wakeFD: Int32) throws(SystemCallError) {
        let epoll = try SystemCall.epollCreate()
        // Set up before it becomes the poller's, so that a failure here closes it here and nowhere else.
        do {
            try SystemCall.epollAdd(epoll, listenFD, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue)
            try SystemCall.epollAdd(epoll, wakeFD, events: EPOLLIN.rawValue)
        } catch {
            BestEffort.close(epoll)
            throw error
        }
        self.epoll = epoll
        self.wakeFD = wakeFD
    }

    deinit { BestEffort.close(epoll) }

    /// What woke the thread; `.failed` with the error when epoll_wait failed.
    func wait() -> Event {
        var events = (epoll_event(), epoll_event())
        let count: Int32
        do {
            count = try withUnsafeMutableBytes(of: &events) { (buffer) throws(SystemCallError) in
                try SystemCall.epollWait(epoll, buffer.baseAddress!.assumingMemoryBound(to: epoll_event.self), 2)
            }
        } catch {
            return .failed(error)
        }
        // Without a time limit, nothing ready means a signal ended the wait.
        if count == 0 { return .interrupted }
        // The listener wins over the wake pipe. With EPOLLEXCLUSIVE the kernel may have woken this thread alone for
        // the connection: given up here, it would wait in the backlog until another connection or another poller
        // made some thread look at the listener again, which after the last connection of a burst is never.
        if events.0.data.fd != wakeFD || (count > 1 && events.1.data.fd != wakeFD) { return .connectionWaiting }
        return .shutdown
    }

}
