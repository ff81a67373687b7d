#if canImport(Glibc)
import Glibc
#endif

/// The addresses a TCP connection may come from: the web servers. `--allow-from`, or libfcgi's convention, the
/// `FCGI_WEB_SERVER_ADDRS` variable, comma-separated numeric addresses. libfcgi checks that variable only when it
/// accepts connections itself, which it never does here, so the workers check it as they accept: a connection from
/// any other address is closed before a byte of it is read. Unix socket connections have no address, and are not
/// checked: the socket file's permissions guard them.
package struct PeerAllowlist: Equatable, Sendable {
    package static let variable = "FCGI_WEB_SERVER_ADDRS"

    /// Each address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    package let addresses: [[UInt8]]

    /// Parses `127.0.0.1,10.0.0.5` or `::1, 192.168.1.2`: numeric addresses only, no names, no ranges.
    package init(parsing text: String) throws(PeerAllowlistError) {
        var addresses: [[UInt8]] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            var trimmed = item
            while let first = trimmed.first, first == " " || first == "\t" { trimmed = trimmed.dropFirst() }
            while let last = trimmed.last, last == " " || last == "\t" { trimmed = trimmed.dropLast() }
            var bare = trimmed
            if bare.hasPrefix("[") && bare.hasSuffix("]") { bare = bare.dropFirst().dropLast() }
            guard let address = Self.networkBytes(of: String(bare)) else {
                throw trimmed.isEmpty ? .empty(text) : .notNumeric(String(trimmed))
            }
            if !addresses.contains(address) { addresses.append(address) }
        }
        self.addresses = addresses
    }

    /// Whether a peer at `address` (network bytes, as `getpeername` gives them) may connect. An IPv4 peer seen
    /// through an IPv6 socket (`::ffff:a.b.c.d`) is compared as IPv4.
    package func allows(_ address: [UInt8]) -> Bool {
        addresses.contains(Self.unmapped(address))
    }

    /// `10.0.0.5,::1`, as the workers get it.
    package var description: String {
        addresses.map(Self.text).joined(separator: ",")
    }

    /// Whether `address` (4 or 16 network bytes) is a loopback address: 127.0.0.0/8, ::1, or ::ffff:127.x.
    package static func isLoopback(_ address: [UInt8]) -> Bool {
        let address = unmapped(address)
        if address.count == 4 { return address[0] == 127 }
        return address == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// The allowlist the environment gives, if any.
    package static func fromEnvironment() throws(PeerAllowlistError) -> PeerAllowlist? {
        guard let value = ProcessIO.environment(variable) else { return nil }
        return try PeerAllowlist(parsing: String(decoding: value, as: UTF8.self))
    }

    /// Refuses to serve a TCP socket that other machines can reach with nobody to keep them out.
    package static func checkExposure(
        of fd: Int32, allowlist: PeerAllowlist?
    ) throws(PeerAllowlistError) {
        guard allowlist == nil, let bound = localAddress(of: fd), !isLoopback(bound.address) else { return }
        throw .exposed(bound.description)
    }

    /// The TCP address `fd` is bound to, nil for a unix socket.
    static func localAddress(of fd: Int32) -> (address: [UInt8], description: String)? {
        socketAddress(of: fd, using: getsockname).map { ($0.address, "\(text($0.address)):\($0.port)") }
    }

    /// The network bytes of the address a TCP connection comes from, nil for a unix socket.
    static func peerAddress(of fd: Int32) -> [UInt8]? {
        socketAddress(of: fd, using: getpeername)?.address
    }

    private static func socketAddress(
        of fd: Int32, using call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) -> (address: [UInt8], port: UInt16)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &length) == 0 }
        }
        guard named else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: &storage) { raw in
                let address = raw.load(as: sockaddr_in.self)
                return (withUnsafeBytes(of: address.sin_addr) { Array($0) }, UInt16(bigEndian: address.sin_port))
            }
        case AF_INET6:
            return withUnsafeBytes(of: &storage) { raw in
                let address = raw.load(as: sockaddr_in6.self)
                return (withUnsafeBytes(of: address.sin6_addr) { Array($0) }, UInt16(bigEndian: address.sin6_port))
            }
        default:
            return nil
        }
    }

    private static func networkBytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return unmapped(withUnsafeBytes(of: v6) { Array($0) }) }
        return nil
    }

    private static func unmapped(_ address: [UInt8]) -> [UInt8] {
        let mappedPrefix = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF]
        guard address.count == 16, Array(address[..<12]) == mappedPrefix else { return address }
        return Array(address[12...])
    }

    static func text(_ address: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = address.count == 4 ? AF_INET : AF_INET6
        let written = address.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        guard written != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
