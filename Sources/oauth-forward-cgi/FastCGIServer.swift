internal import CFastCGI
import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

/// Set from the SIGTERM and SIGINT handler; read by the accept loop.
nonisolated(unsafe) private var shutdownRequested: sig_atomic_t = 0

/// FastCGI on a listening socket: accept, answer, repeat, one request at a time.
struct FastCGIServer {
    let listenSocket: Int32

    func run() -> Int32 {
        installShutdownHandler()
        signal(SIGPIPE, SIG_IGN)
        guard FCGX_Init() == 0 else {
            ProcessIO.writeAll("app=oauth-forward-cgi event=fatal reason=\"FCGX_Init failed\"\n", to: 2)
            return 1
        }
        // Read once: a request's own parameters win over these, variable by variable.
        let processValues = RequestVariables.configurationValues(from: ProcessIO.environment)
        let processConfiguration = Result { () throws(ConfigurationError) in
            try Configuration(target: processValues.target, providers: processValues.providers)
        }

        var request = FCGX_Request()
        FCGX_InitRequest(&request, listenSocket, 0)
        defer { FCGX_Free(&request, 1) }
        while shutdownRequested == 0 {
            let accepted = FCGX_Accept_r(&request)
            if accepted < 0 {
                if shutdownRequested != 0 { break }
                if Self.isTransient(acceptError: -accepted) {
                    // Out of descriptors or memory: wait for some to free up instead of exiting.
                    usleep(50_000)
                    continue
                }
                ProcessIO.writeAll(
                    "app=oauth-forward-cgi event=fatal reason=\"accept failed\" errno=\(-accepted)\n", to: 2)
                return 1
            }
            serve(&request, processValues: processValues, processConfiguration: processConfiguration)
        }
        FCGX_Finish_r(&request)
        return 0
    }

    private func serve(
        _ request: inout FCGX_Request,
        processValues: (target: [UInt8]?, providers: [UInt8]?),
        processConfiguration: Result<Configuration, ConfigurationError>
    ) {
        // The parameter strings are freed by the next accept, so everything is copied out now.
        let envp = request.envp
        let lookup = { (name: String) -> [UInt8]? in
            FCGX_GetParam(name, envp).map { ProcessIO.bytes(ofCString: $0) }
        }
        let cgiRequest = RequestVariables.request(from: lookup)
        let requestValues = RequestVariables.configurationValues(from: lookup)
        let configuration: Result<Configuration, ConfigurationError>
        if requestValues.target == nil && requestValues.providers == nil {
            configuration = processConfiguration
        } else {
            configuration = Result { () throws(ConfigurationError) in
                try Configuration(
                    target: requestValues.target ?? processValues.target,
                    providers: requestValues.providers ?? processValues.providers
                )
            }
        }
        let outcome = Forwarder.respond(to: cgiRequest, configuration: configuration)

        discardBody(of: request)
        let response = outcome.responseBytes
        let written = response.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { FCGX_PutStr($0.baseAddress, Int32($0.count), request.out) }
        }
        var log = outcome.log.line
        if written != response.count {
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

    static func isTransient(acceptError errno: Int32) -> Bool {
        [EINTR, EMFILE, ENFILE, ENOMEM, ENOBUFS, ECONNABORTED].contains(errno)
    }

    /// Without SA_RESTART, so a blocked accept returns EINTR and the loop sees the flag. Installed before
    /// FCGX_Init, which then leaves SIGTERM alone.
    private func installShutdownHandler() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            shutdownRequested = 1
            FCGX_ShutdownPending()
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)
        // A parent may hand down a mask that blocks them (test runners and some supervisors do).
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGTERM)
        sigaddset(&unblock, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }
}
