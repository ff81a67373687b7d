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

            Signals to the first process: SIGHUP reloads. The binary on disk (an upgrade) is run again with the \
            same command line and environment, reads --config again, and takes over the socket; its workers serve \
            before the old ones finish what they hold, so no request is lost. A reload that cannot work (the new \
            binary does not start, or refuses the configuration) changes nothing and logs why. SIGTERM and SIGINT \
            stop: requests in flight finish within --grace.

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
    /// the version, touch nothing.
    @Flag(help: ArgumentHelp(visibility: .private)) var reloadCheck = false

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
    }

    func run() throws {
        guard let file = try targetOptions.settingsFile(allowsOptions: true) else { return try serve(file: nil) }
        let options = file.options
        guard !options.isEmpty else { return try serve(file: file) }
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
        try expanded.serve(file: file)
    }

    private func serve(file: SettingsFile?) throws {
        // A configuration that cannot be right stops the daemon before it accepts anything. An unset target
        // is allowed: the web server may send it with each request (fastcgi_param, SetEnv).
        let configured: [(String, String)]
        switch targetOptions.values(file: file?.configurationValues).configuration() {
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

        let handover: Handover?
        switch Handover.take() {
        case .success(let taken): handover = taken
        case .failure(let error): throw ValidationError(error.message)
        }
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
        if reloadCheck {
            // The running supervisor hands the check its socket as fd 0.
            try checkExposure(of: 0, allowlist: allowlist)
            print(OAuthForwardCommand.version)
            return
        }

        let listener: Listener
        if let handover {
            listener = Listener.handedOver(handover, address: address)
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
            workerSettings: WorkerSettings(
                threads: threads, idleTimeout: .seconds(idleTimeout), requestTimeout: .seconds(requestTimeout),
                grace: .seconds(grace)),
            environment: targetOptions.workerEnvironment(file: file?.configurationValues)
                + (allowlist.map { [(PeerAllowlist.variable, $0.description)] } ?? []),
            version: OAuthForwardCommand.version,
            commandLine: (0..<Int(CommandLine.argc)).compactMap {
                CommandLine.unsafeArgv[$0].map { ProcessIO.bytes(ofCString: $0) }
            },
            handover: handover,
            stopDelay: .seconds(stopDelay)
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
