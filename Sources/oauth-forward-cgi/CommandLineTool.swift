import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

/// What a person gets when starting the program by hand.
enum CommandLineTool {
    static let version = "0.1.0"

    static let usage = """
        oauth-forward-cgi \(version): forwards OAuth callbacks to Junction with a 307, the query byte for byte.

        Run it from a web server, not from a terminal:
          as a CGI script     the server sets GATEWAY_INTERFACE and REQUEST_METHOD
          over FastCGI        a listening socket on fd 0 (spawn-fcgi, mod_fcgid)

        Environment:
          OAUTH_FORWARD_TARGET     required: \(JunctionEnvironment.presetList),
                                   or an https:// URL template such as https://example.com/cb/{provider}
          OAUTH_FORWARD_PROVIDERS  optional: comma-separated providers to allow, such as oura,fitbit

        Options:
          --help                   show this text
          --version                print the version

        """

    static func run(_ arguments: [String]) -> Int32 {
        switch arguments {
        case ["--help"], ["-h"]:
            ProcessIO.writeAll(usage, to: 1)
            return 0
        case ["--version"]:
            ProcessIO.writeAll("oauth-forward-cgi \(version)\n", to: 1)
            return 0
        case []:
            ProcessIO.writeAll(usage, to: 2)
            return 2
        default:
            ProcessIO.writeAll("oauth-forward-cgi: unknown arguments; see --help\n", to: 2)
            return 2
        }
    }
}
