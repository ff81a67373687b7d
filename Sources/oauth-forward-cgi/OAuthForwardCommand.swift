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
            server's variables say everything. With arguments it is a FastCGI daemon (serve, the default) or a \
            configuration check (check).

            Environment: OAUTH_FORWARD_TARGET (\(JunctionEnvironment.presetList), or an https:// URL template \
            with {provider}); OAUTH_FORWARD_PROVIDERS (optional allowlist, such as oura,fitbit). A value the web \
            server sends with a request wins over the process's.
            """,
        version: "oauth-forward-cgi \(version)",
        subcommands: [Serve.self, Check.self, Worker.self],
        defaultSubcommand: Serve.self
    )
}
