import OAuthForward

/// What a person gets when starting the program by hand with no arguments. Kept apart from the argument parser
/// so that this path, like a CGI request, never loads it.
enum CommandLineTool {
    static let usage = """
        oauth-forward-cgi: forwards OAuth callbacks to Junction with a 307, the query byte for byte.

        Run it from a web server, not from a terminal:
          as a CGI script          the server sets GATEWAY_INTERFACE and REQUEST_METHOD
          over FastCGI             a listening socket on fd 0 (spawn-fcgi, mod_fcgid)
          as a FastCGI daemon      oauth-forward-cgi serve --listen /run/oauth-forward-cgi/oauth-forward-cgi.sock

        Environment:
        \(ConfigurationVariable.helpText(width: 100))

        Try: oauth-forward-cgi check --target sandbox-us '/oura?code=abc'   (--help for everything)

        """
}
