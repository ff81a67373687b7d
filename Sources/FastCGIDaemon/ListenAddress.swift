#if canImport(Glibc)
import Glibc
#endif

/// Where the daemon listens, from `--listen`: a unix socket path, or a numeric TCP address.
///
/// Host names are refused: the release binary links glibc statically, and name lookups through NSS do not work
/// there. A numeric address never needs one.
package enum ListenAddress: Equatable, Sendable {
    case unix(path: String)
    case ipv4(address: String, port: UInt16)
    case ipv6(address: String, port: UInt16)

    /// The longest path `sockaddr_un` holds, less its terminating NUL.
    package static let maximumUnixPathLength = 107

    package init(parsing value: String) throws(ListenAddressError) {
        if value.isEmpty { throw .empty }
        if value.hasPrefix("/") || value.hasPrefix(".") {
            guard value.utf8.count <= Self.maximumUnixPathLength else { throw .unixPathTooLong }
            self = .unix(path: value)
            return
        }
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]") else { throw .malformed }
            let address = String(value[value.index(after: value.startIndex)..<close])
            let rest = value[value.index(after: close)...]
            var binary = in6_addr()
            guard rest.hasPrefix(":"), inet_pton(AF_INET6, address, &binary) == 1 else { throw .malformed }
            self = .ipv6(address: address, port: try Self.port(rest.dropFirst()))
            return
        }
        guard let colon = value.lastIndex(of: ":") else { throw .malformed }
        let host = String(value[..<colon])
        // The one check of a numeric address: glibc's own, which the listener's bind then relies on.
        var binary = in_addr()
        guard inet_pton(AF_INET, host, &binary) == 1 else {
            if host.contains(where: \.isLetter) { throw .hostName }
            throw .malformed
        }
        self = .ipv4(address: host, port: try Self.port(value[value.index(after: colon)...]))
    }

    private static func port(_ text: Substring) throws(ListenAddressError) -> UInt16 {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy(\.isASCIIDigit), let port = UInt16(text), port > 0
        else { throw .badPort }
        return port
    }

    package var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .ipv4(let address, let port): "\(address):\(port)"
        case .ipv6(let address, let port): "[\(address)]:\(port)"
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
