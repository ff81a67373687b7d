#if canImport(Glibc)
import Glibc
#endif

/// The addresses a TCP connection may come from: the web servers. `--allow-from`, or libfcgi's convention, the
/// `FCGI_WEB_SERVER_ADDRS` variable, comma-separated numeric addresses and CIDR ranges. libfcgi checks that variable
/// only when it accepts connections itself, which it never does here, so the workers check it as they accept: a
/// connection from any other address is closed before a byte of it is read. Unix socket connections have no address,
/// and are not checked: the socket file's permissions guard them.
package struct PeerAllowlist: Equatable, Sendable {
    package static let variable = "FCGI_WEB_SERVER_ADDRS"

    /// One entry of the list: a single address is a range whose prefix is the whole address.
    package struct Network: Equatable, Sendable {
        /// The network's address in network byte order, host bits zero: 4 bytes for IPv4, 16 for IPv6.
        package let bytes: [UInt8]
        /// How many leading bits a peer must share with `bytes`: 0 to 32 for IPv4, 0 to 128 for IPv6.
        package let prefixLength: Int

        /// Whether `address` (4 or 16 network bytes, already unmapped) lies in this network. IPv4 entries match
        /// only IPv4 peers and IPv6 entries only IPv6 peers, so `::/0` does not let in IPv4 peers.
        package func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            return PeerAllowlist.masked(address, prefixLength: prefixLength) == bytes
        }

        /// `10.0.0.5` for a single address, `10.0.0.0/8` for a range.
        package var description: String {
            let address = PeerAllowlist.text(bytes)
            return prefixLength == bytes.count * 8 ? address : "\(address)/\(prefixLength)"
        }
    }

    /// The entries in the order given, without repeats.
    package let networks: [Network]

    /// Parses `127.0.0.1,10.0.0.0/8` or `::1, fd00::/8, [2001:db8::7]`: numeric addresses and CIDR ranges only, no
    /// names. There is no word for everyone: that is `0.0.0.0/0` or `::/0`, written out.
    package init(parsing text: String) throws(PeerAllowlistError) {
        var networks: [Network] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            var trimmed = item
            while let first = trimmed.first, first == " " || first == "\t" { trimmed = trimmed.dropFirst() }
            while let last = trimmed.last, last == " " || last == "\t" { trimmed = trimmed.dropLast() }
            if trimmed.isEmpty { throw .empty(text) }
            let network = try Self.network(parsing: String(trimmed))
            if !networks.contains(network) { networks.append(network) }
        }
        self.networks = networks
    }

    /// Whether a peer at `address` (network bytes, as `getpeername` gives them) may connect. An IPv4 peer seen
    /// through an IPv6 socket (`::ffff:a.b.c.d`) is compared as IPv4.
    package func allows(_ address: [UInt8]) -> Bool {
        let address = Self.unmapped(address)
        return networks.contains { $0.contains(address) }
    }

    /// `10.0.0.5,fd00::/8`, as the workers get it.
    package var description: String {
        networks.map(\.description).joined(separator: ",")
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
        socketAddress(of: fd, using: SystemCall.getsockname).map { ($0.address, "\(text($0.address)):\($0.port)") }
    }

    /// The network bytes of the address a TCP connection comes from, nil for a unix socket.
    static func peerAddress(of fd: Int32) -> [UInt8]? {
        socketAddress(of: fd, using: SystemCall.getpeername)?.address
    }

    private static func socketAddress(
        of fd: Int32,
        using call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) throws(SystemCallError)
            -> Void
    ) -> (address: [UInt8], port: UInt16)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        do {
            try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SystemCallError) in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(SystemCallError) in
                    try call(fd, address, &length)
                }
            }
        } catch {
            return nil
        }
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

    /// One item: `10.0.0.5`, `[::1]`, `10.0.0.0/8` or `fd00::/8`.
    private static func network(parsing item: String) throws(PeerAllowlistError) -> Network {
        let parts = item.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        var address = parts[0]
        if address.hasPrefix("[") && address.hasSuffix("]") { address = address.dropFirst().dropLast() }
        guard let written = networkBytes(of: String(address)) else { throw .notNumeric(item) }
        guard parts.count == 2 else {
            return Network(bytes: unmapped(written), prefixLength: unmapped(written).count * 8)
        }
        // Digits only, no sign, space or leading zero: `/08` and `/+8` are typos, not ranges.
        let digits = parts[1]
        guard (1...3).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            digits == "0" || !digits.hasPrefix("0"), let prefixLength = Int(digits)
        else { throw .malformedRange(item) }
        let bits = written.count * 8
        guard prefixLength <= bits else { throw .prefixTooLong(item, maximum: bits) }
        if written.count == 16 && unmapped(written).count == 4 && prefixLength >= 96 {
            // ::ffff:10.0.0.0/104 would match nothing, as such peers are compared as IPv4: say what would.
            let ipv4 = masked(unmapped(written), prefixLength: prefixLength - 96)
            throw .mappedRange(item, ipv4: "\(text(ipv4))/\(prefixLength - 96)")
        }
        let network = Network(bytes: masked(written, prefixLength: prefixLength), prefixLength: prefixLength)
        guard network.bytes == written else {
            throw .hostBitsSet(item, network: "\(text(network.bytes))/\(prefixLength)")
        }
        return network
    }

    /// `address` with every bit after the first `prefixLength` cleared.
    static func masked(_ address: [UInt8], prefixLength: Int) -> [UInt8] {
        address.enumerated().map { index, byte in
            let kept = min(max(prefixLength - index * 8, 0), 8)
            return kept == 8 ? byte : byte & ~(UInt8(0xFF) >> kept)
        }
    }

    /// The 4 or 16 bytes `text` names, as written: a mapped IPv6 address stays 16 bytes.
    private static func networkBytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
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
