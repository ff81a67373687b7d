#if canImport(Glibc)
import Glibc
#endif

/// What a supervisor hands on when it re-executes the binary on SIGHUP: the listening socket, still open under
/// the same number, the workers of the generation before, which are its children still, and its own version.
/// It travels in one environment variable, which the new program reads and removes before anything else sees it.
package struct Handover: Equatable, Sendable {
    package static let variable = "OAUTH_FORWARD_HANDOVER"

    package var listenFD: Int32
    package var workers: [pid_t]
    package var version: String

    package init(listenFD: Int32, workers: [pid_t], version: String) {
        self.listenFD = listenFD
        self.workers = workers
        self.version = version
    }

    /// `listen-fd=3 workers=101,102 version=0.2.0`
    package var encoded: String {
        "listen-fd=\(listenFD) workers=\(workers.map(String.init).joined(separator: ",")) version=\(version)"
    }

    /// Reads what `encoded` wrote; nil for anything else.
    package init?(decoding text: String) {
        var fields: [Substring: Substring] = [:]
        for field in text.split(separator: " ") {
            guard let equals = field.firstIndex(of: "="), fields[field[..<equals]] == nil else { return nil }
            fields[field[..<equals]] = field[field.index(after: equals)...]
        }
        guard fields.count == 3, let fd = fields["listen-fd"].flatMap({ Int32($0) }), fd >= 0,
            let workerList = fields["workers"], let version = fields["version"], !version.isEmpty
        else { return nil }
        var workers: [pid_t] = []
        for item in workerList.split(separator: ",") {
            guard let pid = pid_t(item), pid > 0 else { return nil }
            workers.append(pid)
        }
        guard workerList.isEmpty || workers.count == workerList.count(where: { $0 == "," }) + 1 else { return nil }
        self.init(listenFD: fd, workers: workers, version: String(version))
    }

    /// The handover this process was started with, if any, removed from the environment so that no worker or
    /// later reload inherits it. A value that does not parse is an error: the socket it names cannot be trusted.
    package static func take() -> Result<Handover?, HandoverError> {
        guard let raw = ProcessIO.environment(variable) else { return .success(nil) }
        unsetenv(variable)
        let text = String(decoding: raw, as: UTF8.self)
        guard let handover = Handover(decoding: text) else { return .failure(HandoverError(value: text)) }
        guard Listener.isListeningSocket(handover.listenFD) else {
            return .failure(HandoverError(value: text, reason: "fd \(handover.listenFD) is not a listening socket"))
        }
        // Open across the exec that brought it here; close-on-exec again, as the listener was, except on fd 0,
        // where workers find it.
        if handover.listenFD != 0 { _ = fcntl(handover.listenFD, F_SETFD, FD_CLOEXEC) }
        return .success(handover)
    }
}
