/// Why a probe got no answer it could read. Each message names the address.
package enum HealthProbeError: Error, Equatable, Sendable {
    case cannotConnect(ListenAddress, code: Int32)
    case timedOut(ListenAddress, after: Duration)
    /// The peer closed the connection before END_REQUEST.
    case closed(ListenAddress)
    /// A read or write failed, with errno.
    case lost(ListenAddress, code: Int32)
    case unreadableAnswer(ListenAddress, FastCGIResponseError)

    package var message: String {
        switch self {
        case .cannotConnect(let address, let code):
            "cannot connect to \(address.description): \(errorText(code))"
        case .timedOut(let address, let timeout):
            "no answer from \(address.description) within \(timeout.seconds.formatted) s"
        case .closed(let address):
            "\(address.description) closed the connection without an answer"
                + (address.isTCP ? " (an --allow-from list that leaves this host out closes it so)" : "")
        case .lost(let address, let code): "lost the connection to \(address.description): \(errorText(code))"
        case .unreadableAnswer(let address, let error): "\(address.description): \(error.message)"
        }
    }
}

extension ListenAddress {
    fileprivate var isTCP: Bool {
        if case .unix = self { return false }
        return true
    }
}
