internal import CFastCGI
import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

// How the program was started decides what it does. A CGI request never reaches the argument parser: Apache
// passes a query without `=` to a CGI script as command-line arguments (RFC 3875 section 4.4). Nor does it build
// `CommandLine.arguments`, an array of Strings that costs a CGI start about 33,000 instructions (callgrind).
let hasArguments = CommandLine.argc > 1

if !hasArguments && FCGX_IsCGI() == 0 {
    // fd 0 is a listening socket: spawn-fcgi, mod_fcgid, lighttpd. One request at a time, as they expect.
    let worker = FastCGIWorker(
        listenFD: 0,
        settings: .init(
            threads: 1, idleTimeoutMilliseconds: 5000, requestTimeoutMilliseconds: 30_000, graceMilliseconds: 10_000))
    exit(worker.run())
}
if getenv("GATEWAY_INTERFACE") != nil || getenv("REQUEST_METHOD") != nil {
    exit(CGIServer.respondToOneRequest())
}
if CommandLine.argc == 0 {
    // The static runtime reads the command line from /proc/self/cmdline; without /proc it sees none at all.
    ProcessIO.writeAll(
        "oauth-forward-cgi: cannot read its command line: /proc is not mounted here. CGI needs no arguments; "
            + "for serve and check, mount /proc.\n", to: 2)
    exit(2)
}
if !hasArguments {
    ProcessIO.writeAll(CommandLineTool.usage, to: 2)
    exit(2)
}
OAuthForwardCommand.main(Array(CommandLine.arguments.dropFirst()))
