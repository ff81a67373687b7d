import OAuthForward
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Serves FastCGI on a listening socket with a fixed number of threads, each holding one connection at a time.
///
/// The threads accept connections themselves rather than leaving it to libfcgi, for three reasons:
/// - libfcgi has no timeouts. Each accepted connection gets `SO_RCVTIMEO` and `SO_SNDTIMEO` here, which a unix
///   socket connection would not inherit from its listener. Those bound each read and write; the worker's main
///   thread also bounds each whole request (`WorkerSettings.requestTimeout`), so a peer that trickles a byte just
///   inside the idle timeout cannot hold a thread for longer than that.
/// - A thread waiting to accept must wake on shutdown: it sleeps in `poll` on the listener and a wake pipe.
/// - No lock is held around accepting, so an idle kept-alive connection pins its own thread and no other.
/// libfcgi then reads and writes the connection handed to it (`LibFCGIRequest`), and never accepts on its own.
package final class FastCGIWorker: Sendable {
    package let listenFD: Int32
    package let settings: WorkerSettings
    /// Whether the listener is a TCP socket, where Nagle's algorithm would delay the small answers. Set once
    /// before the threads start.
    private let isTCP: Bool
    /// Who may connect over TCP (`FCGI_WEB_SERVER_ADDRS`), or why that variable cannot be used.
    private let allowlist: Result<PeerAllowlist?, PeerAllowlistError>
    private let processValues: ConfigurationValues
    private let processConfiguration: ConfigurationResult
    /// Per thread, the connection it holds and since when, for the request deadline and for shutdown.
    private let holds: Guarded<[Hold]>
    private let finishedThreads = Atomic(0)
    private let pollingThreads = Atomic(0)
    /// Set once the supervisor has been told the worker is ready; threads accept nothing before it.
    private let released = Atomic(false)
    /// Which refused connections get a log line of their own.
    private let refusals = Guarded(RefusalLog())

    package init(listenFD: Int32, settings: WorkerSettings) {
        self.listenFD = listenFD
        self.settings = settings
        isTCP = PeerAllowlist.localAddress(of: listenFD) != nil
        allowlist = Result { () throws(PeerAllowlistError) in try PeerAllowlist.fromEnvironment() }
        // Read once: a request's own parameters win over these, variable by variable.
        processValues = ConfigurationValues(ProcessIO.environment)
        processConfiguration = processValues.configuration()
        holds = Guarded([Hold](repeating: Hold(), count: settings.threads))
    }

    package func run() -> Int32 {
        Shutdown.install(worker: true)
        // Under serve, checked before; under a spawner (spawn-fcgi -a), here, before anything is accepted.
        do throws(PeerAllowlistError) {
            try PeerAllowlist.checkExposure(of: listenFD, allowlist: allowlist.get())
        } catch {
            Log.event("fatal", [("reason", error.message)])
            return 1
        }
        // libfcgi's linger on close, kept within the idle timeout.
        guard LibFCGI.initialize(closePollTimeout: .milliseconds(min(2000, settings.idleTimeout.milliseconds))) else {
            Log.event("fatal", [("reason", "FCGX_Init failed")])
            return 1
        }
        // Every thread and every worker polls this socket; non-blocking, a lost race for a connection sends a
        // thread back to poll instead of blocking it in accept where shutdown cannot reach it.
        BestEffort.setNonBlocking(listenFD)

        // The connection threads start with SIGTERM, SIGINT and SIGQUIT blocked, so the kernel gives those signals to
        // this thread: libfcgi gives up a connection whose read or write a handler interrupts (EINTR), and
        // the threads learn of shutdown from the wake pipe anyway.
        var shutdownSignals = Shutdown.signalSet(worker: true)
        var mask = BestEffort.setSignalMask(SIG_BLOCK, &shutdownSignals)
        var started = 0
        for index in 0..<settings.threads {
            if Threads.spawn({ self.serveConnections(thread: index) }) != nil { started += 1 }
        }
        BestEffort.setSignalMask(SIG_SETMASK, &mask)
        guard started > 0 else {
            Log.event("fatal", [("reason", "no thread could be started")])
            return 1
        }
        signalReady(threads: started)

        // A quarter of the request timeout between looks, at most 250 ms: a request is cut at most that late.
        let tick = max(10, min(250, settings.requestTimeout.milliseconds / 4))
        while !Shutdown.isRequested && finishedThreads.load(ordering: .acquiring) < started {
            Shutdown.sleep(milliseconds: tick)
            cutOverdueRequests()
            logUnloggedRefusals()
            if let supervisor = settings.supervisor, SystemCall.getppid() != supervisor {
                Log.event("supervisor_gone")
                Shutdown.begin()
            }
        }
        // Stopping: threads waiting on a kept-alive connection are woken, and their connections closed; a request
        // already being read or answered is left to finish within the grace period, and within its deadline.
        // Retiring (a reload): kept-alive connections are served on until the web server closes them or they idle
        // out, since a connection closed from this side may be the one the web server is sending a request on.
        let retiring = Shutdown.isRetiring
        let inFlight = holds.withLock { holds in
            if !retiring {
                for hold in holds where hold.waitsOnKeptConnection && hold.fd >= 0 {
                    BestEffort.shutdown(hold.fd, Int32(SHUT_RD))
                }
            }
            return holds.filter { $0.fd >= 0 && (retiring || !$0.waitsOnKeptConnection) }.count
        }
        // Connections still in the listen backlog are not taken any more: see "Stopping" in docs/OPERATIONS.md.
        Log.event(
            retiring ? "worker_retiring" : "worker_stopping",
            [("in_flight", "\(inFlight)"), ("grace_ms", "\(settings.grace.milliseconds)")])
        var waited = 0
        while finishedThreads.load(ordering: .acquiring) < started && waited < settings.grace.milliseconds {
            BestEffort.sleep(microseconds: 10_000)
            waited += 10
            cutOverdueRequests()
        }
        let busy = started - finishedThreads.load(ordering: .acquiring)
        if busy > 0 { Log.event("grace_expired", [("connections_cut", "\(busy)")]) }
        logUnloggedRefusals(final: true)
        return 0
    }

    /// Logs how many refused connections went without a line of their own, at most once a `RefusalLog.interval`.
    private func logUnloggedRefusals(final: Bool = false) {
        guard let count = refusals.withLock({ $0.takeUnlogged(at: .now, final: final) }) else { return }
        Log.event("refused_unlogged", [("count", "\(count)")])
    }

    /// Tells the supervisor, through `settings.readyFD`, that this worker serves, once every thread has its poller
    /// on the socket (or has given up), within a second; then lets the threads accept.
    private func signalReady(threads: Int) {
        defer { released.store(true, ordering: .releasing) }
        guard let readyFD = settings.readyFD else { return }
        let deadline = ContinuousClock.now + .seconds(1)
        while pollingThreads.load(ordering: .acquiring) + finishedThreads.load(ordering: .acquiring) < threads,
            ContinuousClock.now < deadline
        {
            BestEffort.sleep(microseconds: 1000)
        }
        BestEffort.writeByte(to: readyFD)
        BestEffort.close(readyFD)
    }

    /// Shuts down each connection whose thread has waited for, read or answered its current request for longer
    /// than the request timeout. The thread's blocked read or write then fails, libfcgi closes the connection,
    /// and the thread goes back to accepting.
    private func cutOverdueRequests() {
        let now = ContinuousClock.now
        let limit = settings.requestTimeout
        let cut = holds.withLock { holds -> [Duration] in
            var cut: [Duration] = []
            for index in holds.indices {
                guard let since = holds[index].since, now - since >= limit, holds[index].fd >= 0 else { continue }
                BestEffort.shutdown(holds[index].fd, Int32(SHUT_RDWR))
                holds[index].since = nil
                cut.append(now - since)
            }
            return cut
        }
        for held in cut { Log.event("request_timeout", [("held_ms", "\(held.milliseconds)")]) }
    }

    private func serveConnections(thread index: Int) {
        defer { finishedThreads.add(1, ordering: .releasing) }
        let poller: AcceptPoller
        do {
            poller = try AcceptPoller(listenFD: listenFD, wakeFD: Shutdown.wakeFD)
        } catch {
            Log.event("thread_error", [("reason", "epoll setup failed"), ("errno", "\(error.code)")])
            return
        }
        pollingThreads.add(1, ordering: .releasing)
        // Nothing is accepted until the worker has said it is ready: a crafted record must not kill a worker that
        // has not said so yet, which the supervisor would take for a worker that cannot start.
        while !released.load(ordering: .acquiring) && !Shutdown.isRequested { BestEffort.sleep(microseconds: 500) }
        var cache = ConfigurationCache()
        var buffers = AnswerBuffers()
        var request = LibFCGIRequest()
        // This thread's duplicate of its connection's descriptor; see `Hold.fd`.
        var duplicate: Int32 = -1
        defer { if duplicate >= 0 { BestEffort.close(duplicate) } }
        while true {
            let kept = request.holdsConnection
            if kept {
                if Shutdown.isRequested && !Shutdown.isRetiring {
                    request.free()
                    break
                }
            } else {
                if duplicate >= 0 {
                    BestEffort.close(duplicate)
                    duplicate = -1
                }
                guard let fd = acceptConnection(poller) else { break }
                request.take(connection: fd)
                // Without a duplicate (out of descriptors), the request deadline cannot cut this connection.
                duplicate = (try? SystemCall.duplicate(fd)) ?? -1
            }
            let hold = Hold(fd: duplicate, since: .now, waitsOnKeptConnection: kept)
            holds.withLock { $0[index] = hold }
            // False: the connection ended, broke or timed out, and libfcgi has closed it.
            if request.accept() {
                holds.withLock { $0[index].waitsOnKeptConnection = false }
                serve(request, cache: &cache, buffers: &buffers)
                // Stopping, a kept-alive connection is closed after this answer. Retiring, it is not: the web server
                // may already have taken it for its next request before it sees the close, and it would then lose
                // that request. It stays until the web server closes it, as nginx's keepalive_time makes it do.
                request.finish(closingConnection: Shutdown.isRequested && !Shutdown.isRetiring)
            }
            // Only now: the deadline also covers Finish, which may read what is left of the body. The duplicate
            // keeps the descriptor's number from going to another connection until this thread closes it.
            holds.withLock { $0[index] = Hold() }
        }
    }

    /// Waits for a connection, or for shutdown (nil). Applies the idle timeout to the new connection.
    private func acceptConnection(_ poller: borrowing AcceptPoller) -> Int32? {
        while !Shutdown.isRequested {
            switch poller.wait() {
            case .shutdown: return nil
            case .interrupted: continue
            case .failed(let error):
                Log.event("fatal", [("reason", "epoll_wait failed"), ("errno", "\(error.code)")])
                return nil
            case .connectionWaiting: break
            }
            let fd: Int32
            do {
                fd = try SystemCall.accept(listenFD)
            } catch {
                switch error.code {
                case EAGAIN, ECONNABORTED, EPROTO:
                    continue
                case EMFILE, ENFILE, ENOMEM, ENOBUFS:
                    // Out of descriptors or memory: wait for some to be freed rather than exit.
                    Log.event("accept_error", [("errno", "\(error.code)")])
                    Shutdown.sleep(milliseconds: 100)
                    continue
                default:
                    Log.event("fatal", [("reason", "accept failed"), ("errno", "\(error.code)")])
                    return nil
                }
            }
            if isTCP, case .success(let allowed?) = allowlist {
                let peer = PeerAllowlist.peerAddress(of: fd)
                guard let peer, allowed.allows(peer) else {
                    BestEffort.close(fd)
                    if refusals.withLock({ $0.admit(at: .now) }) {
                        Log.event("refused", [("peer", peer.map(PeerAllowlist.text) ?? "unknown")])
                    }
                    continue
                }
            }
            let timeout = timeval(
                tv_sec: settings.idleTimeout.milliseconds / 1000,
                tv_usec: (settings.idleTimeout.milliseconds % 1000) * 1000)
            BestEffort.setOption(fd, SOL_SOCKET, SO_RCVTIMEO, timeout)
            BestEffort.setOption(fd, SOL_SOCKET, SO_SNDTIMEO, timeout)
            if isTCP { BestEffort.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1) }
            return fd
        }
        return nil
    }

    /// What `serve` reads of a request: `RequestVariable`'s names, then `ConfigurationVariable`'s.
    private static let parameterNames = ParameterNames(
        RequestVariable.allCases.map(\.name) + ConfigurationVariable.allCases.map(\.name))
    /// Where `ConfigurationVariable`'s names start in `parameterNames`.
    private static let configurationStart = RequestVariable.allCases.count

    /// One thread's buffers for a request's answer and its log line, reused from one request to the next.
    private struct AnswerBuffers {
        var response: [UInt8] = []
        var logLine: [UInt8] = []
    }

    private func serve(
        _ request: borrowing LibFCGIRequest, cache: inout ConfigurationCache, buffers: inout AnswerBuffers
    ) {
        let (cgiRequest, configuration) = request.withParameters(Self.parameterNames) { found in
            // The request's own variables are copies: libfcgi frees its strings at the next accept.
            (
                RequestVariables.request { found.copy($0.rawValue) },
                cache.configuration(
                    for: { found[Self.configurationStart + $0.rawValue] }, process: processValues,
                    processConfiguration: processConfiguration)
            )
        }
        let outcome = Forwarder.respond(to: cgiRequest, configuration: configuration)

        request.discardBody(upTo: RequestVariables.maximumDiscardedBody)
        var log = outcome.log
        outcome.writeResponse(into: &buffers.response)
        if !request.answer(buffers.response) { log.writeError = "fastcgi" }
        // The process's stderr, not the request's FCGI_STDERR: nginx files each FCGI_STDERR line in its error
        // log together with the request line, query string included, which would put the code and state there.
        log.writeLine(into: &buffers.logLine)
        ProcessIO.writeAll(buffers.logLine, to: 2)
    }
}
