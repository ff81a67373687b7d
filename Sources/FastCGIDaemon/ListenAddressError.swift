package enum ListenAddressError: Error, Equatable, Sendable {
    case empty
    case malformed
    case hostName
    case badPort
    case unixPathTooLong

    package var message: String {
        let forms =
            "use a unix socket path (/run/oauth-forward-cgi/oauth-forward-cgi.sock) or a numeric address "
            + "(127.0.0.1:9000, [::1]:9000)"
        return switch self {
        case .empty: "--listen is empty; \(forms)"
        case .malformed: "--listen is not an address; \(forms)"
        case .hostName:
            "--listen takes numeric addresses only: the static binary cannot resolve host names; \(forms)"
        case .badPort: "--listen has a port outside 1-65535; \(forms)"
        case .unixPathTooLong: "--listen is a unix socket path longer than \(ListenAddress.maximumUnixPathLength) bytes"
        }
    }
}
