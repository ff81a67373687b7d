import ArgumentParser
import FastCGIDaemon

#if canImport(Glibc)
import Glibc
#endif

/// One worker process, started by `serve` with the shared socket on fd 0. Not for people: its arguments are what
/// `WorkerSettings.arguments` wrote.
struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(shouldDisplay: false)

    @Argument(parsing: .captureForPassthrough) var arguments: [String] = []

    func run() throws {
        guard let settings = WorkerSettings(arguments: arguments), let supervisor = settings.supervisor else {
            throw ValidationError("worker: started by serve only, with the arguments it passes")
        }
        // The supervisor's pid is passed rather than read with getppid(): a supervisor killed while the worker
        // starts would otherwise leave it watching pid 1, serving on as an orphan.
        guard SystemCall.getppid() == supervisor else { throw ExitCode(0) }
        guard Listener.isListeningSocket(0) else {
            throw ValidationError("worker: fd 0 is not a listening socket; start the daemon with serve")
        }
        throw ExitCode(FastCGIWorker(listenFD: 0, settings: settings).run())
    }
}
