import ArgumentParser
import FastCGIDaemon
import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run as a FastCGI daemon: a supervisor and its worker processes.",
        discussion: """
            Without --listen it serves a socket it inherited: systemd socket activation (LISTEN_FDS), or a \
            listening socket on fd 0 (StandardInput=socket, spawn-fcgi).

            Signals to the first process: SIGHUP reloads. --config is read again, once, and the binary on disk \
            (an upgrade) checks it with the same command line and environment; its workers start and serve before \
            the old ones finish what they hold, and only then does it take over the process, so no request is \
            lost. A reload that fails at any step, or that a stop signal interrupts, changes nothing and logs why. \
            A reload cannot move the socket: a changed --listen is refused. SIGTERM, SIGINT and SIGQUIT stop: \
            requests in flight finish within --grace.

            Over TCP, only loopback is served without --allow-from.
            """
    )

    @Option(help: "A unix socket path, or a numeric TCP address such as 127.0.0.1:9000 or [::1]:9000.")
    var listen: String?

    @Option(help: "Permissions of a unix socket, in octal.")
    var socketMode: String = "0660"

    @Option(help: "Group of a unix socket: a numeric id, or a name from /etc/group (never looked up through NSS).")
    var socketGroup: String?

    @Option(
        help: ArgumentHelp(
            "Numeric addresses and CIDR ranges a TCP connection may come from, comma-separated: the web servers, "
                + "such as 10.0.0.5,fd00::/8. Others are closed unread; everyone is only 0.0.0.0/0 or ::/0, written "
                + "out. Overrides \(PeerAllowlist.variable). Needed to listen on an address other than loopback.",
            valueName: "addresses"))
    var allowFrom: String?

    @Option(help: "Worker processes. A crash costs only the connections of one worker.")
    var workers: Int = 2

    @Option(help: "Threads per worker, each holding one connection. Capacity is workers times threads.")
    var threads: Int = WorkerSettings.defaultThreads

    @Option(help: "Seconds a connection may stay silent, or leave its answer unread, before it is closed.")
    var idleTimeout: Double = WorkerSettings.defaultIdleTimeout.seconds

    @Option(
        help: "Seconds a connection may take over one request in all, from waiting for it to taking the answer.")
    var requestTimeout: Double = WorkerSettings.defaultRequestTimeout.seconds

    @Option(help: "Seconds to finish the requests in flight on SIGTERM or SIGINT, and for old workers on a reload.")
    var grace: Double = WorkerSettings.defaultGrace.seconds

    @Option(
        help: ArgumentHelp(
            "Seconds to go on serving after SIGTERM or SIGINT before stopping: for a web server that is told to "
                + "stop at the same moment, as in a Kubernetes pod, and still sends what it took."))
    var stopDelay: Double = 0

    @OptionGroup var targetOptions: TargetOptions

    /// Given by a running supervisor to the binary on disk when it reloads: check everything a start would, print
    /// the `ReloadPlan`, touch nothing.
    @Flag(help: ArgumentHelp(visibility: .private)) var reloadCheck = false
    /// With `--reload-check`: the handover protocol the running supervisor speaks.
    @Option(help: ArgumentHelp(visibility: .private)) var handoverProtocol: Int?
    /// With `--reload-check`: the descriptor of the configuration snapshot the running supervisor read.
    @Option(help: ArgumentHelp(visibility: .private)) var configFd: Int32?

    func validate() throws {
        guard (1...256).contains(workers) else { throw ValidationError("--workers must be 1 to 256") }
        let threadRange = WorkerSettings.threadRange
        guard threadRange.contains(threads) else {
            throw ValidationError("--threads must be \(threadRange.lowerBound) to \(threadRange.upperBound)")
        }
        for (flag, value, range) in [
            ("--idle-timeout", idleTimeout, WorkerSettings.timeoutRange),
            ("--request-timeout", requestTimeout, WorkerSettings.timeoutRange),
            ("--grace", grace, WorkerSettings.graceRange),
            ("--stop-delay", stopDelay, Supervisor.stopDelayRange),
        ] where !range.contains(.seconds(value)) {
            throw ValidationError(
                "\(flag) must be \(range.lowerBound.seconds.formatted) to \(range.upperBound.seconds.formatted) seconds"
            )
        }
        guard socketMode.allSatisfy({ ("0"..."7").contains($0) }), let mode = Int(socketMode, radix: 8),
            mode <= 0o777
        else { throw ValidationError("--socket-mode must be octal, such as 0660") }
        guard reloadCheck || (handoverProtocol == nil && configFd == nil) else {
            throw ValidationError("--handover-protocol and --config-fd belong to --reload-check")
        }
    }

    func run() throws {
        let handover: Handover?
        switch Handover.take() {
        case .success(let taken): handover = taken
        case .failure(let error): throw ValidationError(error.message)
        }
        if reloadCheck && handoverProtocol != Handover.protocolVersion {
            throw ValidationError(
                "this binary cannot take over from the running daemon by a reload: that version hands over in "
                    + "another way. Restart the service instead (systemctl restart oauth-forward-cgi)")
        }
        let snapshot = reloadCheck ? configFd : handover?.configFD
        guard let file = try targetOptions.settingsFile(allowsOptions: true, snapshot: snapshot) else {
            return try serve(file: nil, handover: handover)
        }
        let options = file.options
        guard !options.isEmpty else { return try serve(file: file, handover: handover) }
        // The file's flags come first, so that the command line's win; the file is not read a second time.
        if options.contains(where: { $0 == "--config" || $0.hasPrefix("--config=") }) {
            throw ValidationError(
                "--config \(targetOptions.config ?? ""): \(SettingsFile.optionsName) cannot name --config")
        }
        var commandLine = CommandLine.arguments.dropFirst()
        if commandLine.first == "serve" { commandLine = commandLine.dropFirst() }
        let expanded: Serve
        do {
            expanded = try Serve.parse(options + commandLine)
        } catch {
            // ArgumentParser quotes the file's values as they are: its message is escaped whole.
            throw ValidationError(
                MessageText.escaped(
                    "--config \(targetOptions.config ?? ""): \(SettingsFile.optionsName): \(Serve.message(for: error))")
            )
        }
        try expanded.serve(file: file, handover: handover)
    }

    private func serve(file: SettingsFile?, handover: Handover?) throws {
        // A configuration that cannot be right stops the daemon before it accepts anything. An unset target
        // is allowed: the web server may send it with each request (fastcgi_param, SetEnv).
        let configured: [(String, String)]
        let layers = targetOptions.layers(file: file?.configurationValues)
        switch layers.values.configuration() {
        case .success(let configuration):
            configured = [("target", configuration.targetLogName)]
        case .failure(.target(.unset)):
            configured = [
                ("target", "-"), ("note", "no process-level target: each request must carry \(ForwardTarget.variable)"),
            ]
        case .failure(let error):
            throw ValidationError(error.message)
        }
        if !reloadCheck { Log.event("config", configured) }

        var address: ListenAddress?
        if let listen {
            do throws(ListenAddressError) {
                address = try ListenAddress(parsing: listen)
            } catch {
                throw ValidationError(error.message)
            }
        }
        let group = try socketGroupID()
        var allowlist: PeerAllowlist?
        do throws(PeerAllowlistError) {
            if let allowFrom {
                allowlist = try PeerAllowlist(parsing: allowFrom)
            } else {
                allowlist = try PeerAllowlist.fromEnvironment()
            }
        } catch {
            throw ValidationError("\(allowFrom == nil ? PeerAllowlist.variable : "--allow-from"): \(error.message)")
        }
        let settings = WorkerSettings(
            threads: threads, idleTimeout: .seconds(idleTimeout), requestTimeout: .seconds(requestTimeout),
            grace: .seconds(grace))
        let environment =
            layers.workerEnvironment
            + (allowlist.map { [(PeerAllowlist.variable, $0.description)] } ?? [])
        if reloadCheck {
            // The running supervisor hands the check its socket as fd 0.
            try checkExposure(of: 0, allowlist: allowlist)
            if let address, let bound = ListenAddress(boundTo: 0), bound != address.canonical {
                throw ValidationError(
                    "--listen \(MessageText.escaped(address.description)) is not the socket the daemon serves, "
                        + "\(MessageText.escaped(bound.description)): a reload keeps the socket. Restart the "
                        + "service to move it")
            }
            let plan = ReloadPlan(
                version: OAuthForwardCommand.version, workers: workers, workerSettings: settings,
                environment: environment.map { "\($0.0)=\($0.1)" })
            ProcessIO.writeAll(plan.encoded, to: 1)
            return
        }

        let listener: Listener
        if let handover {
            listener = Listener.handedOver(handover)
        } else if let address {
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

        do {
            try checkExposure(of: listener.fd, allowlist: allowlist)
        } catch {
            listener.removeOwnedPath()
            throw error
        }
        let supervisor = Supervisor(
            listener: listener,
            workers: workers,
            workerSettings: settings,
            environment: environment,
            version: OAuthForwardCommand.version,
            commandLine: (0..<Int(CommandLine.argc)).compactMap {
                CommandLine.unsafeArgv[$0].map { ProcessIO.bytes(ofCString: $0) }
            },
            handover: handover,
            stopDelay: .seconds(stopDelay),
            configPath: targetOptions.config
        )
        throw ExitCode(supervisor.run())
    }

    private func checkExposure(of fd: Int32, allowlist: PeerAllowlist?) throws {
        do throws(PeerAllowlistError) {
            try PeerAllowlist.checkExposure(of: fd, allowlist: allowlist)
        } catch {
            throw ValidationError(error.message)
        }
    }

    private func socketGroupID() throws -> gid_t? {
        guard let socketGroup else { return nil }
        do throws(SocketGroupError) {
            return try SocketGroup(parsing: socketGroup).id
        } catch {
            throw ValidationError(error.message)
        }
    }
}
