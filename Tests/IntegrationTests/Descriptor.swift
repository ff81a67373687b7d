import CTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor with exactly one owner. It is closed once: by `close()`, which leaves -1 behind, or
/// when its owner goes away. It cannot be copied, so no second owner can close the same number later, when the
/// kernel may have given that number to another test's socket in another thread.
///
/// Every descriptor the tests open is close-on-exec: the runner starts servers from many threads at once, and a
/// pipe or socket inherited by an unrelated child would stay open for as long as that child lives.
struct Descriptor: ~Copyable {
    private(set) var raw: Int32

    /// Takes ownership of `raw`, or of nothing when it is negative.
    init(adopting raw: Int32) { self.raw = raw }

    /// A new stream socket of `family`, close-on-exec.
    static func socket(_ family: Int32) throws(DescriptorError) -> Descriptor {
        let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DescriptorError(call: "socket", code: errno) }
        return Descriptor(adopting: fd)
    }

    /// A stream socket connected to `address`, a `sockaddr_un`, `sockaddr_in` or `sockaddr_in6`, with a receive
    /// and a send timeout in seconds (0: none) so that a silent peer fails the test instead of hanging it. A
    /// connection that fails closes its socket here, once.
    /// `source`: an IPv4 address to connect from, such as 127.0.0.2, another loopback address than the server's.
    static func connected<Address>(
        to address: Address, family: Int32, receiveTimeout: Double, sendTimeout: Double, source: String? = nil
    ) throws(DescriptorError) -> Descriptor {
        let descriptor = try socket(family)
        descriptor.setTimeout(SO_RCVTIMEO, seconds: receiveTimeout)
        descriptor.setTimeout(SO_SNDTIMEO, seconds: sendTimeout)
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, source, &local.sin_addr)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(descriptor.raw, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else { throw DescriptorError(call: "bind", code: errno) }
        }
        var address = address
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor.raw, $0, socklen_t(MemoryLayout<Address>.size))
            }
        }
        guard connected == 0 else { throw DescriptorError(call: "connect", code: errno) }
        return descriptor
    }

    func setTimeout(_ option: Int32, seconds: Double) {
        var interval = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(raw, SOL_SOCKET, option, &interval, socklen_t(MemoryLayout<timeval>.size))
    }

    mutating func close() {
        guard raw >= 0 else { return }
        Glibc.close(raw)
        raw = -1
    }

    deinit {
        if raw >= 0 { Glibc.close(raw) }
    }
}

/// A pipe whose two ends are owned apart, both close-on-exec.
struct Pipe: ~Copyable {
    var read: Descriptor
    var write: Descriptor

    init() throws(DescriptorError) {
        var fds: [Int32] = [-1, -1]
        guard CTestSupport_pipe2(&fds, O_CLOEXEC) == 0 else { throw DescriptorError(call: "pipe2", code: errno) }
        read = Descriptor(adopting: fds[0])
        write = Descriptor(adopting: fds[1])
    }
}

struct DescriptorError: Error, CustomStringConvertible {
    let call: String
    let code: Int32

    var description: String { "\(call) failed: errno \(code)" }
}

/// The `sockaddr_un` for a socket file's path.
func unixSocketAddress(_ path: String) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
        for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
    }
    return address
}
