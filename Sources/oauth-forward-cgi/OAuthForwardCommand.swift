import ArgumentParser
import OAuthForward

/// Command-line use: the daemon, the configuration check, and the worker the daemon starts. Only reached with
/// arguments and no CGI environment, so a CGI request never pays for parsing.
struct OAuthForwardCommand: ParsableCommand {
    static let version = "0.2.0"

    static let configuration = CommandConfiguration(
        commandName: "oauth-forward-cgi",
        abstract: "Forwards OAuth callbacks to Junction with a 307, the query string byte for byte.",
        discussion: """
            As a CGI script or under a FastCGI spawner (spawn-fcgi, mod_fcgid) it needs no arguments: the web \
            server's variables say everything. With arguments it is a FastCGI daemon (serve, the default), a \
            configuration check (check), or a health probe of a running daemon (probe).

            Environment, or the flags of serve and check, which win over it; a value the web server sends with \
            a request wins over both:
            \(ConfigurationVariable.helpText(width: 78))
            """,
        version: "oauth-forward-cgi \(version)",
        subcommands: [Serve.self, Check.self, Probe.self, Worker.self],
        defaultSubcommand: Serve.self
    )
}
