import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

/// Plain CGI: one request, described by the process environment and, for what it leaves unset, the settings file
/// beside the script, answered on stdout.
package enum CGIServer {
    package static func respondToOneRequest() -> Int32 {
        // A server that closes the pipe early must not kill the process before its log line is written.
        BestEffort.ignore(SIGPIPE)
        let lookup = ProcessIO.environment
        let request = RequestVariables.request { lookup($0.name) }
        // Variables the environment lacks come from oauth-forward-cgi.conf beside the script, for suEXEC.
        let configuration = ScriptSettingsFile.configuration(
            environment: ConfigurationValues(lookup), scriptFilename: lookup("SCRIPT_FILENAME"))
        let outcome = Forwarder.respond(to: request, configuration: configuration)

        // Drain the body first: mod_cgid can reset an answer whose program exits with the body unread.
        ProcessIO.discard(
            upTo: min(RequestVariables.contentLength(from: lookup), RequestVariables.maximumDiscardedBody),
            from: 0
        )
        var log = outcome.log
        if !ProcessIO.writeAll(outcome.responseBytes, to: 1) { log.writeError = "stdout" }
        ProcessIO.writeAll(log.lineBytes, to: 2)
        return 0
    }
}
