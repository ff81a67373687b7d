import ArgumentParser
import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

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

/// The process-level forms of the variables; flags win over the environment.
struct TargetOptions: ParsableArguments {
    @Option(help: "Where to forward: a preset, auto, or an https:// URL template. Overrides OAUTH_FORWARD_TARGET.")
    var target: String?

    @Option(help: "Comma-separated providers to forward. Overrides OAUTH_FORWARD_PROVIDERS.")
    var providers: String?

    @Option(help: "With --target auto: the environments to forward to. Overrides OAUTH_FORWARD_ENVIRONMENTS.")
    var environments: String?

    @Option(help: "With --target auto: where other callbacks go. Overrides OAUTH_FORWARD_FALLBACK.")
    var fallback: String?

    private var flags: [(variable: String, flag: String, value: String?)] {
        [
            (ForwardTarget.variable, "--target", target), (ProviderAllowlist.variable, "--providers", providers),
            (Configuration.environmentsVariable, "--environments", environments),
            (Configuration.fallbackVariable, "--fallback", fallback),
        ]
    }

    /// Each variable's value and where it came from: a flag, the environment, or nowhere.
    func sources() -> [(variable: String, value: [UInt8]?, source: String)] {
        flags.map { variable, flag, value in
            if let value { return (variable, Array(value.utf8), flag) }
            if let value = ProcessIO.environment(variable) { return (variable, value, "environment") }
            return (variable, nil, "unset")
        }
    }

    var values: ConfigurationValues {
        let found = Dictionary(uniqueKeysWithValues: sources().map { ($0.variable, $0.value) })
        return ConfigurationValues { found[$0] ?? nil }
    }

    /// What the workers get in their environment, so flags reach them as process-level values.
    var workerEnvironment: [(String, String)] {
        flags.compactMap { variable, _, value in value.map { (variable, $0) } }
    }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run as a FastCGI daemon: a supervisor and its worker processes.",
        discussion: """
            Without --listen it serves a socket it inherited: systemd socket activation (LISTEN_FDS), or a \
            listening socket on fd 0 (StandardInput=socket, spawn-fcgi).
            """
    )

    @Option(help: "A unix socket path, or a numeric TCP address such as 127.0.0.1:9000 or [::1]:9000.")
    var listen: String?

    @Option(help: "Permissions of a unix socket, in octal.")
    var socketMode: String = "0660"

    @Option(help: "Group of a unix socket: a name or a numeric id.")
    var socketGroup: String?

    @Option(help: "Worker processes. A crash costs only the connections of one worker.")
    var workers: Int = 2

    @Option(help: "Threads per worker, each holding one connection. Capacity is workers times threads.")
    var threads: Int = 16

    @Option(help: "Seconds a connection may stay silent, or leave its answer unread, before it is closed.")
    var idleTimeout: Double = 5

    @Option(
        help: "Seconds a connection may take over one request in all, from waiting for it to taking the answer.")
    var requestTimeout: Double = 30

    @Option(help: "Seconds to finish the requests in flight on SIGTERM or SIGINT.")
    var grace: Double = 10

    @OptionGroup var targetOptions: TargetOptions

    func validate() throws {
        guard (1...256).contains(workers) else { throw ValidationError("--workers must be 1 to 256") }
        guard (1...1024).contains(threads) else { throw ValidationError("--threads must be 1 to 1024") }
        guard idleTimeout >= 0.1 && idleTimeout <= 3600 else {
            throw ValidationError("--idle-timeout must be 0.1 to 3600 seconds")
        }
        guard requestTimeout >= 0.1 && requestTimeout <= 3600 else {
            throw ValidationError("--request-timeout must be 0.1 to 3600 seconds")
        }
        guard grace >= 0 && grace <= 3600 else { throw ValidationError("--grace must be 0 to 3600 seconds") }
        guard socketMode.allSatisfy({ ("0"..."7").contains($0) }), let mode = Int(socketMode, radix: 8),
            mode <= 0o777
        else { throw ValidationError("--socket-mode must be octal, such as 0660") }
    }

    func run() throws {
        // A configuration that cannot be right stops the daemon before it accepts anything. An unset target
        // is allowed: the web server may send it with each request (fastcgi_param, SetEnv).
        switch targetOptions.values.configuration() {
        case .success(let configuration):
            Log.event("config", "target=\(RequestLog.quotedIfNeeded(configuration.targetLogName))")
        case .failure(.target(.unset)):
            Log.event(
                "config",
                "target=- note=\"no process-level target: each request must carry OAUTH_FORWARD_TARGET\"")
        case .failure(let error):
            throw ValidationError(error.message)
        }

        let listener: Listener
        if let listen {
            let address: ListenAddress
            do throws(ListenAddressError) {
                address = try ListenAddress(parsing: listen)
            } catch {
                throw ValidationError(error.message)
            }
            let group = try socketGroupID()
            do throws(ListenerError) {
                listener = try Listener.open(address, mode: mode_t(Int(socketMode, radix: 8)!), group: group)
            } catch {
                throw ValidationError(error.message)
            }
        } else if let inherited = Listener.inherited() {
            listener = inherited
        } else {
            throw ValidationError(
                "nothing to listen on: give --listen, or start it with a listening socket (systemd, spawn-fcgi)")
        }

        let supervisor = Supervisor(
            listener: listener,
            workers: workers,
            workerSettings: .init(
                threads: threads,
                idleTimeoutMilliseconds: Int(idleTimeout * 1000),
                requestTimeoutMilliseconds: Int(requestTimeout * 1000),
                graceMilliseconds: Int(grace * 1000)),
            environment: targetOptions.workerEnvironment
        )
        throw ExitCode(supervisor.run())
    }

    private func socketGroupID() throws -> gid_t? {
        guard let socketGroup else { return nil }
        if let id = gid_t(socketGroup) { return id }
        guard let entry = getgrnam(socketGroup) else {
            throw ValidationError("--socket-group \(socketGroup) is not a known group; a numeric id always works")
        }
        return entry.pointee.gr_gid
    }
}

/// What a request would get, without any server: the effective configuration and the exact answer.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the effective configuration and the answer a request would get.",
        discussion: """
            Example: oauth-forward-cgi check --target sandbox-us '/oura?code=abc&state=xyz'
            The argument is PATH_INFO and the query, as the web server passes them. Exits 0 when the answer is \
            a 307, 1 otherwise.
            """
    )

    @Argument(help: "PATH_INFO, then optionally ? and the query, e.g. /oura?code=abc")
    var request: String

    @Option(help: "The request method.")
    var method: String = "GET"

    @OptionGroup var targetOptions: TargetOptions

    func run() throws {
        // Bytes, not Strings, from the argument to the answer: the report shows what the CGI answer would carry.
        var report: [UInt8] = []
        func line(_ text: String) { report += Array(text.utf8) }
        for (variable, value, source) in targetOptions.sources() {
            report += Array("\(variable): ".utf8) + (value ?? Array("-".utf8)) + Array(" (\(source))\n".utf8)
        }
        switch targetOptions.values.configuration() {
        case .success(let configuration):
            switch configuration.route {
            case .fixed(let target):
                line("route: always \(target.logName)\n")
            case .byState(let environments, let fallback):
                line(
                    "route: by the state token's aud, to "
                        + environments.map(\.presetName).joined(separator: ", ")
                        + "; other callbacks " + (fallback.map { "to \($0.logName)" } ?? "answer 400") + "\n")
            }
            line(
                "providers: "
                    + (configuration.allowlist.map { $0.providers.map(\.name).joined(separator: ",") } ?? "any") + "\n")
        case .failure(let error):
            line("configuration error: \(error.message)\n")
        }
        let bytes = ProcessIO.rawArgument(decodingTo: request)
        let split = bytes.firstIndex(of: UInt8(ascii: "?"))
        let cgiRequest = CGIRequest(
            method: Array(method.utf8),
            pathInfo: Array(bytes[..<(split ?? bytes.endIndex)]),
            query: split.map { Array(bytes[($0 + 1)...]) } ?? [])
        let outcome = Forwarder.respond(to: cgiRequest, configuration: targetOptions.values.configuration())
        // The answer's lines end in LF here, for a terminal; its bytes are otherwise the CGI answer's.
        line("\n")
        let answer = outcome.responseBytes
        for (index, byte) in answer.enumerated()
        where byte != UInt8(ascii: "\r") || index + 1 == answer.count || answer[index + 1] != UInt8(ascii: "\n") {
            report.append(byte)
        }
        line("\nlog: " + outcome.log.line)
        ProcessIO.writeAll(report, to: 1)
        if outcome.response.status != .temporaryRedirect { throw ExitCode(1) }
    }
}

/// One worker process, started by `serve` with the shared socket on fd 0. Not for people.
struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(shouldDisplay: false)

    @Option var threads: Int
    @Option var idleTimeoutMs: Int
    @Option var requestTimeoutMs: Int
    @Option var graceMs: Int
    /// The supervisor's pid, passed rather than read with getppid(): a supervisor killed while the worker starts
    /// would otherwise leave it watching pid 1, serving on as an orphan.
    @Option var supervisor: Int32

    func run() throws {
        guard getppid() == supervisor else { throw ExitCode(0) }
        guard Listener.isListeningSocket(0) else {
            throw ValidationError("worker: fd 0 is not a listening socket; start the daemon with serve")
        }
        let worker = FastCGIWorker(
            listenFD: 0,
            settings: .init(
                threads: threads, idleTimeoutMilliseconds: idleTimeoutMs,
                requestTimeoutMilliseconds: requestTimeoutMs, graceMilliseconds: graceMs, supervisor: supervisor))
        throw ExitCode(worker.run())
    }
}
