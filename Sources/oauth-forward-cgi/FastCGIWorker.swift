internal import CEpoll
internal import CFastCGI
import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

/// Serves FastCGI on a listening socket with a fixed number of threads, each holding one connection at a time.
///
/// The threads accept connections themselves rather than leaving it to libfcgi, for three reasons:
/// - libfcgi has no timeouts. Each accepted connection gets `SO_RCVTIMEO` and `SO_SNDTIMEO` here, which a unix
///   socket connection would not inherit from its listener.
/// - A thread waiting to accept must wake on shutdown: it sleeps in `poll` on the listener and a wake pipe.
/// - No lock is held around accepting, so an idle kept-alive connection pins its own thread and no other.
/// libfcgi then reads and writes the connection handed to it in `FCGX_Request.ipcFd`; the request's listening
/// socket is -1, so libfcgi never accepts on its own.
final class FastCGIWorker: @unchecked Sendable {
    struct Settings {
        var threads: Int
        var idleTimeoutMilliseconds: Int
        var graceMilliseconds: Int
        /// A supervisor's pid: when it is gone, the worker shuts down instead of serving on as an orphan.
        var supervisor: pid_t? = nil
    }

    let listenFD: Int32
    let settings: Settings
    /// Whether the listener is a TCP socket, where Nagle's algorithm would delay the small answers. Set once
    /// before the threads start.
    private let isTCP: Bool
    private let processValues: ConfigurationValues
    private let processConfiguration: ConfigurationResult
    /// Per thread, the kept-alive connection it is waiting on for a next request, or -1.
    private let idleConnections: Guarded<[Int32]>
    private let finishedThreads = Guarded(0)

    init(listenFD: Int32, settings: Settings) {
        self.listenFD = listenFD
        self.settings = settings
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listenFD, $0, &length) == 0 }
        }
        isTCP = named && (Int32(address.ss_family) == AF_INET || Int32(address.ss_family) == AF_INET6)
        // Read once: a request's own parameters win over these, variable by variable.
        processValues = ConfigurationValues(ProcessIO.environment)
        processConfiguration = processValues.configuration()
        idleConnections = Guarded([Int32](repeating: -1, count: settings.threads))
    }

    func run() -> Int32 {
        Shutdown.install()
        // libfcgi lingers up to this long on close, waiting for the peer's end of stream; keep it within the
        // idle timeout. Read by FCGX_Init.
        setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", String(min(2000, settings.idleTimeoutMilliseconds)), 1)
        guard FCGX_Init() == 0 else {
            Log.event("fatal", "reason=\"FCGX_Init failed\"")
            return 1
        }
        // Every thread and every worker polls this socket; non-blocking, a lost race for a connection sends a
        // thread back to poll instead of blocking it in accept where shutdown cannot reach it.
        _ = fcntl(listenFD, F_SETFL, fcntl(listenFD, F_GETFL) | O_NONBLOCK)

        var started = 0
        for index in 0..<settings.threads {
            if Threads.spawn({ self.serveConnections(thread: index) }) != nil { started += 1 }
        }
        guard started > 0 else {
            Log.event("fatal", "reason=\"no thread could be started\"")
            return 1
        }

        while !Shutdown.isRequested && finishedThreads.withLock({ $0 }) < started {
            Shutdown.sleep(milliseconds: 500)
            if let supervisor = settings.supervisor, getppid() != supervisor {
                Log.event("supervisor_gone")
                Shutdown.begin()
            }
        }
        // Threads waiting on a kept-alive connection are woken; a request already being read or answered is
        // left to finish within the grace period.
        idleConnections.withLock { fds in
            for fd in fds where fd >= 0 { shutdown(fd, Int32(SHUT_RD)) }
        }
        var waited = 0
        while finishedThreads.withLock({ $0 }) < started && waited < settings.graceMilliseconds {
            usleep(10_000)
            waited += 10
        }
        return 0
    }

    private func serveConnections(thread index: Int) {
        defer { finishedThreads.withLock { $0 += 1 } }
        guard let poller = AcceptPoller(listenFD: listenFD, wakeFD: Shutdown.wakeFD) else {
            Log.event("thread_error", "reason=\"epoll setup failed\" errno=\(errno)")
            return
        }
        defer { poller.close() }
        var cache = ConfigurationCache()
        var request = FCGX_Request()
        FCGX_InitRequest(&request, -1, 0)
        while true {
            if request.ipcFd < 0 {
                guard let fd = acceptConnection(poller) else { break }
                request.ipcFd = fd
                // FCGX_Accept_r first finishes the previous request, closing its connection unless it was kept.
                request.keepConnection = 1
            } else {
                if Shutdown.isRequested {
                    FCGX_Free(&request, 1)
                    break
                }
                let fd = request.ipcFd
                idleConnections.withLock { $0[index] = fd }
            }
            let accepted = FCGX_Accept_r(&request)
            idleConnections.withLock { $0[index] = -1 }
            // A negative result: the connection ended, broke or timed out, and libfcgi has closed it.
            guard accepted >= 0 else { continue }
            serve(&request, cache: &cache)
            FCGX_Finish_r(&request)
        }
    }

    /// Waits for a connection, or for shutdown (nil). Applies the idle timeout to the new connection.
    private func acceptConnection(_ poller: AcceptPoller) -> Int32? {
        while !Shutdown.isRequested {
            switch poller.wait() {
            case .shutdown: return nil
            case .interrupted: continue
            case .failed:
                Log.event("fatal", "reason=\"epoll_wait failed\" errno=\(errno)")
                return nil
            case .connectionWaiting: break
            }
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                switch errno {
                case EAGAIN, EINTR, ECONNABORTED, EPROTO:
                    continue
                case EMFILE, ENFILE, ENOMEM, ENOBUFS:
                    // Out of descriptors or memory: wait for some to be freed rather than exit.
                    Log.event("accept_error", "errno=\(errno)")
                    Shutdown.sleep(milliseconds: 100)
                    continue
                default:
                    Log.event("fatal", "reason=\"accept failed\" errno=\(errno)")
                    return nil
                }
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var timeout = timeval(
                tv_sec: settings.idleTimeoutMilliseconds / 1000,
                tv_usec: (settings.idleTimeoutMilliseconds % 1000) * 1000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if isTCP {
                var on: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            }
            return fd
        }
        return nil
    }

    private func serve(_ request: inout FCGX_Request, cache: inout ConfigurationCache) {
        // The parameter strings are freed by the next accept, so everything is copied out now.
        let envp = request.envp
        let lookup = { (name: String) -> [UInt8]? in
            FCGX_GetParam(name, envp).map { ProcessIO.bytes(ofCString: $0) }
        }
        let cgiRequest = RequestVariables.request(from: lookup)
        let requestValues = ConfigurationValues(lookup)
        let configuration =
            requestValues.isEmpty ? processConfiguration : cache.configuration(for: requestValues.overriding(processValues))
        let outcome = Forwarder.respond(to: cgiRequest, configuration: configuration)

        discardBody(of: request)
        let response = outcome.responseBytes
        let written = response.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { FCGX_PutStr($0.baseAddress, Int32($0.count), request.out) }
        }
        // Closing the streams here, as FCGX_Finish_r would, sends the answer and reports a peer that vanished.
        let errorClosed = FCGX_FClose(request.err)
        let outputClosed = FCGX_FClose(request.out)
        var log = outcome.log.line
        if written != response.count || errorClosed != 0 || outputClosed != 0 {
            log = log.dropLast() + " write_error=fastcgi\n"
        }
        // The process's stderr, not the request's FCGI_STDERR: nginx files each FCGI_STDERR line in its error
        // log together with the request line, query string included, which would put the code and state there.
        ProcessIO.writeAll(log, to: 2)
    }

    /// Reads the request body to its end, bounded, so a kept-alive connection is left at a record boundary.
    private func discardBody(of request: FCGX_Request) {
        var remaining = RequestVariables.maximumDiscardedBody
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 16384) { buffer in
            while remaining > 0 {
                let count = FCGX_GetStr(buffer.baseAddress, Int32(min(remaining, buffer.count)), request.in)
                if count <= 0 { return }
                remaining -= Int(count)
            }
        }
    }
}

/// The configuration a thread read last. nginx sends `fastcgi_param OAUTH_FORWARD_TARGET` with every request,
/// nearly always the same: comparing the raw values is cheaper than parsing them again.
struct ConfigurationCache {
    private var values: ConfigurationValues?
    private var result: ConfigurationResult?

    mutating func configuration(for values: ConfigurationValues) -> ConfigurationResult {
        if let result, self.values == values { return result }
        let parsed = values.configuration()
        self.values = values
        result = parsed
        return parsed
    }
}

/// One thread's wait for a connection: an epoll set with the listener, marked EPOLLEXCLUSIVE so the kernel wakes
/// one waiting thread per connection rather than every thread of every worker, and the shutdown pipe, which wakes
/// them all. (With poll on the shared listener, each connection woke every thread: 11.7 context switches per
/// request in docs/BENCHMARKS.md.)
struct AcceptPoller {
    enum Event {
        case connectionWaiting
        case shutdown
        case interrupted
        case failed
    }

    let epoll: Int32
    let wakeFD: Int32

    init?(listenFD: Int32, wakeFD: Int32) {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { return nil }
        self.wakeFD = wakeFD
        var listener = epoll_event()
        listener.events = EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue
        listener.data.fd = listenFD
        var wake = epoll_event()
        wake.events = EPOLLIN.rawValue
        wake.data.fd = wakeFD
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, listenFD, &listener) == 0,
            epoll_ctl(epoll, EPOLL_CTL_ADD, wakeFD, &wake) == 0
        else {
            Glibc.close(epoll)
            return nil
        }
    }

    func wait() -> Event {
        var events = (epoll_event(), epoll_event())
        let count = withUnsafeMutableBytes(of: &events) {
            epoll_wait(epoll, $0.baseAddress!.assumingMemoryBound(to: epoll_event.self), 2, -1)
        }
        if count < 0 { return errno == EINTR ? .interrupted : .failed }
        if events.0.data.fd == wakeFD || (count > 1 && events.1.data.fd == wakeFD) { return .shutdown }
        return .connectionWaiting
    }

    func close() { Glibc.close(epoll) }
}

/// Lines about the process rather than a request, in the same logfmt shape.
enum Log {
    static func event(_ name: String, _ fields: String = "") {
        ProcessIO.writeAll("app=oauth-forward-cgi pid=\(getpid()) event=\(name)\(fields.isEmpty ? "" : " " + fields)\n", to: 2)
    }
}
