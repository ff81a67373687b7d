import ArgumentParser
import FastCGIDaemon

#if canImport(Glibc)
import Glibc
#endif

/// One worker process, started by `serve` with the shared socket on fd 0. Not for people.
struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(shouldDisplay: false)

    @Option var threads: Int
    @Option var idleTimeoutMs: Int
    @Option var requestTimeoutMs: Int
    @Option var graceMs: Int
    /// The supervisor's pid, passed rather than read with getppid(): a supervisor killed while the worker starts
    /// would otherwise leave it watching pid 1, serving on as an orphan.
    @Option var supervisor: Int32

    func run() throws {
        guard getppid() == supervisor else { throw ExitCode(0) }
        guard Listener.isListeningSocket(0) else {
            throw ValidationError("worker: fd 0 is not a listening socket; start the daemon with serve")
        }
        let worker = FastCGIWorker(
            listenFD: 0,
            settings: .init(
                threads: threads, idleTimeoutMilliseconds: idleTimeoutMs,
                requestTimeoutMilliseconds: requestTimeoutMs, graceMilliseconds: graceMs, supervisor: supervisor))
        throw ExitCode(worker.run())
    }
}
