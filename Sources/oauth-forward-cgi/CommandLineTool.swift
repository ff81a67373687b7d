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
          OAUTH_FORWARD_TARGET     required: \(JunctionEnvironment.presetList),
                                   or an https:// URL template such as https://example.com/cb/{provider}
          OAUTH_FORWARD_PROVIDERS  optional: comma-separated providers to allow, such as oura,fitbit

        Try: oauth-forward-cgi check --target sandbox-us '/oura?code=abc'   (--help for everything)

        """
}
