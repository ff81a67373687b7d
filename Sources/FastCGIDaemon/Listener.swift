import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's listening socket: opened from `--listen`, or inherited from systemd or a spawner.
package struct Listener {
    package let fd: Int32
    /// The unix socket file this daemon bound, to remove when it stops if it is still that file.
    let socketFile: (path: String, identity: FileIdentity)?
    let description: String

    init(fd: Int32, socketFile: (path: String, identity: FileIdentity)? = nil, description: String) {
        self.fd = fd
        self.socketFile = socketFile
        self.description = description
    }

    /// The socket itself, which a handover names.
    var identity: FileIdentity { FileIdentity(descriptor: fd) ?? FileIdentity(device: 0, inode: 0) }

    static let backlog: Int32 = 1024

    /// Where to serve when `--listen` is not given: systemd's `LISTEN_FDS` (fd 3), or a listening socket on fd 0
    /// (`StandardInput=socket`, spawn-fcgi, mod_fcgid).
    package static func inherited() -> Listener? {
        if let pid = ProcessIO.environment("LISTEN_PID").flatMap({ Int32(String(decoding: $0, as: UTF8.self)) }),
            pid == SystemCall.getpid(),
            let count = ProcessIO.environment("LISTEN_FDS").flatMap({ Int(String(decoding: $0, as: UTF8.self)) }),
            count >= 1, isListeningSocket(3)
        {
            // Workers get the socket as fd 0; these would mislead them, and any child after them.
            unsetenv("LISTEN_PID")
            unsetenv("LISTEN_FDS")
            unsetenv("LISTEN_FDNAMES")
            return Listener(fd: 3, description: "systemd socket (LISTEN_FDS)")
        }
        if isListeningSocket(0) {
            return Listener(fd: 0, description: "inherited socket on fd 0")
        }
        return nil
    }

    /// The socket a reload's previous program left open under the same number, described by the address it is
    /// bound to. Its socket file, if the daemon bound one, is still the daemon's to remove.
    package static func handedOver(_ handover: Handover) -> Listener {
        let address = ListenAddress(boundTo: handover.listenFD)
        let socketFile = handover.socketFile.flatMap { identity -> (path: String, identity: FileIdentity)? in
            guard case .unix(let path) = address else { return nil }
            return (path, identity)
        }
        return Listener(
            fd: handover.listenFD, socketFile: socketFile,
            description: address?.description ?? "socket kept from a reload")
    }

    package static func isListeningSocket(_ fd: Int32) -> Bool {
        (try? SystemCall.socketOption(fd, SOL_SOCKET, SO_ACCEPTCONN)) == 1
    }

    package static func open(
        _ address: ListenAddress, mode: mode_t, group: gid_t?
    ) throws(ListenerError) -> Listener {
        switch address {
        case .unix(let path): try openUnix(path: path, address: address, mode: mode, group: group)
        case .ipv4, .ipv6: try openTCP(address)
        }
    }

    private static func openUnix(
        path: String, address: ListenAddress, mode: mode_t, group: gid_t?
    ) throws(ListenerError) -> Listener {
        if let status = try? SystemCall.lstat(path) {
            guard (status.st_mode & S_IFMT) == S_IFSOCK else {
                throw ListenerError(message: "\(path) exists and is not a socket; refusing to replace it")
            }
            // A socket file is stale unless something still answers on it.
            var answered = false
            if let probe = try? SystemCall.socket(AF_UNIX) {
                answered =
                    (try? address.withSystemAddress { (address, length) throws(SystemCallError) in
                        try SystemCall.connect(probe, address, length)
                    }) != nil
                BestEffort.close(probe)
            }
            guard !answered else {
                throw ListenerError(
                    message: "a live process is listening on \(path); stop it first, or choose another --listen")
            }
            BestEffort.unlink(path)
        }
        let fd: Int32
        do {
            fd = try SystemCall.socket(AF_UNIX)
        } catch {
            throw ListenerError(message: "socket() failed: \(error.message)")
        }
        // Created with no permissions for others from the first instant; the mode is set right after.
        let previousMask = SystemCall.umask(0o177)
        var bindError: SystemCallError?
        do {
            try address.withSystemAddress { (address, length) throws(SystemCallError) in
                try SystemCall.bind(fd, address, length)
            }
        } catch {
            bindError = error
        }
        _ = SystemCall.umask(previousMask)
        if let bindError {
            BestEffort.close(fd)
            throw ListenerError(message: "cannot bind \(path): \(bindError.message)")
        }
        if let group {
            do {
                try SystemCall.chown(path, group: group)
            } catch {
                BestEffort.close(fd)
                BestEffort.unlink(path)
                throw ListenerError(message: "cannot give \(path) to group \(group): \(error.message)")
            }
        }
        do {
            try SystemCall.chmod(path, mode)
            try SystemCall.listen(fd, backlog: backlog)
        } catch {
            BestEffort.close(fd)
            BestEffort.unlink(path)
            throw ListenerError(message: "cannot listen on \(path): \(error.message)")
        }
        // Known by its identity from here on: at stop, a file another service has put at the same path stays.
        let identity: FileIdentity
        do {
            identity = try FileIdentity(at: path)
        } catch {
            BestEffort.close(fd)
            throw ListenerError(message: "cannot find \(path) after binding it: \(error.message)")
        }
        return Listener(fd: fd, socketFile: (path, identity), description: "unix:\(path)")
    }

    private static func openTCP(_ address: ListenAddress) throws(ListenerError) -> Listener {
        let fd: Int32
        do {
            fd = try SystemCall.socket(address.family)
        } catch {
            throw ListenerError(message: "socket() failed: \(error.message)")
        }
        BestEffort.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        if address.family == AF_INET6 { BestEffort.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        do {
            try address.withSystemAddress { (address, length) throws(SystemCallError) in
                try SystemCall.bind(fd, address, length)
            }
            try SystemCall.listen(fd, backlog: backlog)
        } catch {
            BestEffort.close(fd)
            throw ListenerError(message: "cannot listen on \(address.description): \(error.message)")
        }
        return Listener(fd: fd, description: address.description)
    }

    /// Removes the socket file this daemon bound, if the path still names that very file: never another service's
    /// socket that took its place.
    package func removeOwnedPath() {
        guard let socketFile, FileIdentity(path: socketFile.path) == socketFile.identity else { return }
        BestEffort.unlink(socketFile.path)
    }
}

/// Calls `body` with a `sockaddr_un`, `sockaddr_in` or `sockaddr_in6` seen as the `sockaddr` and length that
/// bind and connect take.
func withSocketAddress<Address>(
    _ address: inout Address, _ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemCallError) -> Void
) throws(SystemCallError) {
    try withUnsafePointer(to: &address) { (pointer) throws(SystemCallError) in
        try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(SystemCallError) in
            try body(address, socklen_t(MemoryLayout<Address>.size))
        }
    }
}
