internal import CFastCGI
import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

// How the program was started decides what it does. The checks are ordered so a CGI request never parses flags:
// Apache passes a query without `=` to a CGI script as command-line arguments (RFC 3875 section 4.4).
let arguments = Array(CommandLine.arguments.dropFirst())

if FCGX_IsCGI() == 0 && arguments.isEmpty {
    // fd 0 is a listening socket: spawn-fcgi, mod_fcgid, lighttpd.
    exit(FastCGIServer(listenSocket: 0).run())
}
if getenv("GATEWAY_INTERFACE") != nil || getenv("REQUEST_METHOD") != nil {
    exit(CGIServer.respondToOneRequest())
}
exit(CommandLineTool.run(arguments))
