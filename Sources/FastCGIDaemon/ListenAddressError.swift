package enum ListenAddressError: Error, Equatable, Sendable {
    case empty
    case malformed
    case hostName
    case badPort
    case unixPathTooLong

    package var message: String { message(naming: "--listen") }

    /// The message for the flag or argument that held the address: `--listen`, or `probe`'s `ADDR`.
    package func message(naming argument: String) -> String {
        let forms =
            "use a unix socket path (/run/oauth-forward-cgi/oauth-forward-cgi.sock) or a numeric address "
            + "(127.0.0.1:9000, [::1]:9000)"
        return switch self {
        case .empty: "\(argument) is empty; \(forms)"
        case .malformed: "\(argument) is not an address; \(forms)"
        case .hostName:
            "\(argument) takes numeric addresses only: the static binary cannot resolve host names; \(forms)"
        case .badPort: "\(argument) has a port outside 1-65535; \(forms)"
        case .unixPathTooLong:
            "\(argument) is a unix socket path longer than \(ListenAddress.maximumUnixPathLength) bytes"
        }
    }
}
