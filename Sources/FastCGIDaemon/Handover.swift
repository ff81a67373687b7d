#if canImport(Glibc)
import Glibc
#endif

/// What a supervisor hands on when it re-executes itself on SIGHUP, once the new program's workers serve: the
/// listening socket and the checked configuration, still open under the same numbers, and the workers, which are
/// this pid's children still. It travels in one environment variable, which the new program reads and removes
/// before anything else sees it, and which it believes only as far as it can check: the variable could have been
/// set by anyone who sets the daemon's environment, and a pid that is not this process's child is someone else's.
package struct Handover: Equatable, Sendable {
    package static let variable = "OAUTH_FORWARD_HANDOVER"
    /// What a reload's check is given (`--handover-protocol`), so that a binary that speaks another protocol
    /// refuses the reload before anything changes, instead of being handed what it cannot read.
    package static let protocolVersion = 2

    /// The supervisor's pid, which an exec keeps: the new program must find its own.
    package var supervisor: pid_t
    package var listenFD: Int32
    /// The listening socket, so that another socket under the same number is refused.
    package var listenSocket: FileIdentity
    /// The unix socket file the daemon bound itself, if it did: the one file it removes when it stops.
    package var socketFile: FileIdentity?
    /// A sealed memory file holding the configuration file's bytes that the reload's check accepted.
    package var configFD: Int32?
    /// The binary the reload executed, open so that a script there could read itself; closed on arrival.
    package var imageFD: Int32?
    /// The new generation, spawned and ready before the exec.
    package var workers: [pid_t]
    /// The generations before, to retire.
    package var retiring: [pid_t]
    /// The version of the program that hands over.
    package var version: String

    package init(
        supervisor: pid_t, listenFD: Int32, listenSocket: FileIdentity, socketFile: FileIdentity?, configFD: Int32?,
        imageFD: Int32?, workers: [pid_t], retiring: [pid_t], version: String
    ) {
        self.supervisor = supervisor
        self.listenFD = listenFD
        self.listenSocket = listenSocket
        self.socketFile = socketFile
        self.configFD = configFD
        self.imageFD = imageFD
        self.workers = workers
        self.retiring = retiring
        self.version = version
    }

    private static let fieldNames = [
        "supervisor", "listen-fd", "listen-socket", "socket-file", "config-fd", "image-fd", "workers", "retiring",
        "version",
    ]

    /// `supervisor=100 listen-fd=3 listen-socket=8:4113 socket-file=2049:77 config-fd=5 image-fd=6 workers=101,102
    /// retiring=98,99 version=0.2.0`, with `-` for a file or descriptor that is not there.
    package var encoded: String {
        let values = [
            "\(supervisor)", "\(listenFD)", "\(listenSocket)", socketFile?.description ?? "-",
            configFD.map { "\($0)" } ?? "-", imageFD.map { "\($0)" } ?? "-", Self.list(workers), Self.list(retiring),
            version,
        ]
        return zip(Self.fieldNames, values).map { "\($0)=\($1)" }.joined(separator: " ")
    }

    private static func list(_ pids: [pid_t]) -> String { pids.map(String.init).joined(separator: ",") }

    /// Reads what `encoded` wrote: every field once, in its place; nil for anything else.
    package init?(decoding text: String) {
        let fields = text.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == Self.fieldNames.count else { return nil }
        var values: [Substring] = []
        for (field, name) in zip(fields, Self.fieldNames) {
            guard field.hasPrefix("\(name)=") else { return nil }
            values.append(field.dropFirst(name.utf8.count + 1))
        }
        guard let supervisor = Self.positive(values[0]), let listenFD = Self.descriptor(values[1]),
            let listenSocket = FileIdentity(values[2]), let workers = Self.pids(values[6]),
            let retiring = Self.pids(values[7]), !values[8].isEmpty,
            values[8].allSatisfy({ $0.isLetter || $0.isNumber || ".-+~_".contains($0) })
        else { return nil }
        let socketFile = values[3] == "-" ? nil : FileIdentity(values[3])
        let configFD = values[4] == "-" ? nil : Self.descriptor(values[4])
        let imageFD = values[5] == "-" ? nil : Self.descriptor(values[5])
        guard (values[3] == "-") == (socketFile == nil), (values[4] == "-") == (configFD == nil),
            (values[5] == "-") == (imageFD == nil), Set(workers + retiring).count == workers.count + retiring.count
        else { return nil }
        self.init(
            supervisor: supervisor, listenFD: listenFD, listenSocket: listenSocket, socketFile: socketFile,
            configFD: configFD, imageFD: imageFD, workers: workers, retiring: retiring, version: String(values[8]))
    }

    private static func positive(_ text: Substring) -> pid_t? {
        guard !text.isEmpty, text.allSatisfy(\.isWholeNumber), let value = pid_t(text), value > 0 else { return nil }
        return value
    }

    private static func descriptor(_ text: Substring) -> Int32? {
        guard !text.isEmpty, text.allSatisfy(\.isWholeNumber), let value = Int32(text) else { return nil }
        return value
    }

    private static func pids(_ text: Substring) -> [pid_t]? {
        guard !text.isEmpty else { return [] }
        var pids: [pid_t] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let pid = positive(item) else { return nil }
            pids.append(pid)
        }
        return pids
    }

    /// The handover this process was started with, if any, removed from the environment so that no worker or
    /// later reload inherits it. It is used only if every part of it checks out: this process's own pid, the
    /// socket and the configuration under the numbers and identities it names, and workers that are this
    /// process's children. Anything else is an error, found before anything is signalled.
    package static func take() -> Result<Handover?, HandoverError> {
        guard let raw = ProcessIO.environment(variable) else { return .success(nil) }
        unsetenv(variable)
        let text = String(decoding: raw, as: UTF8.self)
        guard let handover = Handover(decoding: text) else { return .failure(HandoverError(value: text)) }
        if let reason = handover.problem() { return .failure(HandoverError(value: text, reason: reason)) }
        // Open across the exec that brought them here; close-on-exec again, except the socket on fd 0, where
        // workers find it.
        if handover.listenFD != 0 { BestEffort.setCloseOnExec(handover.listenFD) }
        if let configFD = handover.configFD { BestEffort.setCloseOnExec(configFD) }
        if let imageFD = handover.imageFD { BestEffort.close(imageFD) }
        return .success(handover)
    }

    /// Why this process cannot take the handover; nil when it can.
    package func problem() -> String? {
        let pid = SystemCall.getpid()
        guard supervisor == pid else { return "it was made for process \(supervisor), and this is process \(pid)" }
        guard Listener.isListeningSocket(listenFD), FileIdentity(descriptor: listenFD) == listenSocket else {
            return "fd \(listenFD) is not the listening socket \(listenSocket)"
        }
        if let configFD, configFD == listenFD || !ConfigurationSnapshot.isSealed(configFD) {
            return "fd \(configFD) is not a sealed configuration"
        }
        if let imageFD, imageFD <= 2 || imageFD == listenFD || imageFD == configFD {
            return "fd \(imageFD) cannot be the binary's"
        }
        for child in workers + retiring where !ProcessIO.isChild(child) {
            return "process \(child) is not a child of this process"
        }
        return nil
    }
}
