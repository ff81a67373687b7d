#if canImport(Glibc)
import Glibc
#endif

extension ListenAddress {
    /// The socket family the address needs.
    var family: Int32 {
        switch self {
        case .unix: AF_UNIX
        case .ipv4: AF_INET
        case .ipv6: AF_INET6
        }
    }

    /// Calls `body` with the address as connect and bind take it. A numeric address was checked with inet_pton
    /// when it was parsed.
    func withSystemAddress(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemCallError) -> Void
    ) throws(SystemCallError) {
        switch self {
        case .unix(let path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
            }
            try withSocketAddress(&address, body)
        case .ipv4(let host, let port):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            inet_pton(AF_INET, host, &address.sin_addr)
            try withSocketAddress(&address, body)
        case .ipv6(let host, let port):
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            inet_pton(AF_INET6, host, &address.sin6_addr)
            try withSocketAddress(&address, body)
        }
    }
}

extension ListenAddress {
    /// The address a socket is bound to, from `getsockname`; nil for a socket of another kind or an unnamed one.
    package init?(boundTo fd: Int32) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        do {
            try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SystemCallError) in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(SystemCallError) in
                    try SystemCall.getsockname(fd, address, &length)
                }
            }
        } catch {
            return nil
        }
        switch Int32(storage.ss_family) {
        case AF_UNIX:
            let path = withUnsafeBytes(of: &storage) { raw -> [UInt8] in
                let start = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
                let bytes = raw[start..<min(Int(length), raw.count)]
                return Array(bytes.prefix { $0 != 0 })
            }
            guard !path.isEmpty else { return nil }
            self = .unix(path: String(decoding: path, as: UTF8.self))
        case AF_INET:
            let address = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
            var binary = address.sin_addr
            guard let text = Self.text(AF_INET, &binary, length: Int(INET_ADDRSTRLEN)) else { return nil }
            self = .ipv4(address: text, port: UInt16(bigEndian: address.sin_port))
        case AF_INET6:
            let address = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
            var binary = address.sin6_addr
            guard let text = Self.text(AF_INET6, &binary, length: Int(INET6_ADDRSTRLEN)) else { return nil }
            self = .ipv6(address: text, port: UInt16(bigEndian: address.sin6_port))
        default:
            return nil
        }
    }

    /// The same address with a TCP host in the one form `inet_ntop` writes, as `init(boundTo:)` gives it.
    package var canonical: ListenAddress {
        switch self {
        case .unix: return self
        case .ipv4(let host, let port):
            var binary = in_addr()
            guard inet_pton(AF_INET, host, &binary) == 1,
                let text = Self.text(AF_INET, &binary, length: Int(INET_ADDRSTRLEN))
            else { return self }
            return .ipv4(address: text, port: port)
        case .ipv6(let host, let port):
            var binary = in6_addr()
            guard inet_pton(AF_INET6, host, &binary) == 1,
                let text = Self.text(AF_INET6, &binary, length: Int(INET6_ADDRSTRLEN))
            else { return self }
            return .ipv6(address: text, port: port)
        }
    }

    private static func text<Address>(_ family: Int32, _ binary: inout Address, length: Int) -> String? {
        var buffer = [CChar](repeating: 0, count: length)
        guard inet_ntop(family, &binary, &buffer, socklen_t(length)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
