#if canImport(Glibc)
import Glibc
#endif

/// How a web server started the program, when one did: with a listening socket on fd 0 (a FastCGI spawner), or
/// with a CGI environment.
package enum WebServerLaunch {
    /// Serves what the web server asked for and returns the exit status; nil when no web server started it.
    /// `hasArguments`: a FastCGI spawner passes none, while Apache passes a query without `=` to a CGI script as
    /// arguments (RFC 3875 section 4.4), so only the CGI check ignores them.
    package static func serve(hasArguments: Bool) -> Int32? {
        if !hasArguments && !LibFCGI.isCGI {
            // fd 0 is a listening socket: spawn-fcgi, mod_fcgid, lighttpd.
            return FastCGIWorker(listenFD: 0, settings: .spawned).run()
        }
        if getenv("GATEWAY_INTERFACE") != nil || getenv("REQUEST_METHOD") != nil {
            return CGIServer.respondToOneRequest()
        }
        return nil
    }
}
