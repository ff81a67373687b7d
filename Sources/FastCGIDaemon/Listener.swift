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
            pid == getpid(),
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
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0 && accepting == 1
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
        var status = stat()
        if lstat(path, &status) == 0 {
            guard (status.st_mode & S_IFMT) == S_IFSOCK else {
                throw ListenerError(message: "\(path) exists and is not a socket; refusing to replace it")
            }
            // A socket file is stale unless something still answers on it.
            let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            let answered = address.withSystemAddress { connect(probe, $0, $1) }
            close(probe)
            guard answered != 0 else {
                throw ListenerError(
                    message: "a live process is listening on \(path); stop it first, or choose another --listen")
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ListenerError(message: "socket() failed: \(errorText())") }
        // Created with no permissions for others from the first instant; the mode is set right after.
        let previousMask = umask(0o177)
        let bound = address.withSystemAddress { bind(fd, $0, $1) }
        umask(previousMask)
        guard bound == 0 else {
            let text = errorText()
            close(fd)
            throw ListenerError(message: "cannot bind \(path): \(text)")
        }
        if let group, chown(path, uid_t.max, group) != 0 {
            let text = errorText()
            close(fd)
            unlink(path)
            throw ListenerError(message: "cannot give \(path) to group \(group): \(text)")
        }
        guard chmod(path, mode) == 0, listen(fd, backlog) == 0 else {
            let text = errorText()
            close(fd)
            unlink(path)
            throw ListenerError(message: "cannot listen on \(path): \(text)")
        }
        // Known by its identity from here on: at stop, a file another service has put at the same path stays.
        guard let identity = FileIdentity(path: path) else {
            let text = errorText()
            close(fd)
            throw ListenerError(message: "cannot find \(path) after binding it: \(text)")
        }
        return Listener(fd: fd, socketFile: (path, identity), description: "unix:\(path)")
    }

    private static func openTCP(_ address: ListenAddress) throws(ListenerError) -> Listener {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ListenerError(message: "socket() failed: \(errorText())") }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        if address.family == AF_INET6 {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = address.withSystemAddress { bind(fd, $0, $1) }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let text = errorText()
            close(fd)
            throw ListenerError(message: "cannot listen on \(address.description): \(text)")
        }
        return Listener(fd: fd, description: address.description)
    }

    /// Removes the socket file this daemon bound, if the path still names that very file: never another service's
    /// socket that took its place.
    package func removeOwnedPath() {
        guard let socketFile, FileIdentity(path: socketFile.path) == socketFile.identity else { return }
        unlink(socketFile.path)
    }
}

/// Calls `body` with a `sockaddr_un`, `sockaddr_in` or `sockaddr_in6` seen as the `sockaddr` and length that
/// bind and connect take.
func withSocketAddress<Address>(
    _ address: inout Address, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32
) -> Int32 {
    withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<Address>.size)) }
    }
}

func errorText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
