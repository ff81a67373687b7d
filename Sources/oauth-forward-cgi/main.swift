internal import CFastCGI
import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

// How the program was started decides what it does. A CGI request never reaches the argument parser: Apache
// passes a query without `=` to a CGI script as command-line arguments (RFC 3875 section 4.4).
let arguments = Array(CommandLine.arguments.dropFirst())

if arguments.isEmpty && FCGX_IsCGI() == 0 {
    // fd 0 is a listening socket: spawn-fcgi, mod_fcgid, lighttpd. One request at a time, as they expect.
    let worker = FastCGIWorker(
        listenFD: 0, settings: .init(threads: 1, idleTimeoutMilliseconds: 5000, graceMilliseconds: 10_000))
    exit(worker.run())
}
if getenv("GATEWAY_INTERFACE") != nil || getenv("REQUEST_METHOD") != nil {
    exit(CGIServer.respondToOneRequest())
}
if arguments.isEmpty {
    ProcessIO.writeAll(CommandLineTool.usage, to: 2)
    exit(2)
}
OAuthForwardCommand.main(arguments)
