/// Why an answer a probe read is not a pass. Each message says what to check.
package enum ProbeFailure: Error, Equatable, Sendable {
    /// END_REQUEST said the request was not served: FCGI_CANT_MPX_CONN (1), FCGI_OVERLOADED (2),
    /// FCGI_UNKNOWN_ROLE (3).
    case refused(protocolStatus: UInt8)
    case unreadable(FastCGIResponseError)
    /// Any status but 307, with the line the probe prints.
    case status(code: Int, line: String)
    /// A 307 whose `Location` does not end with `?` and the probe's query: not this program's forwarding.
    case queryNotForwarded(line: String)

    package var message: String {
        switch self {
        case .refused(let status):
            let names = [1: "FCGI_CANT_MPX_CONN", 2: "FCGI_OVERLOADED", 3: "FCGI_UNKNOWN_ROLE"]
            return "the daemon did not serve the request: \(names[Int(status)] ?? "protocol status \(status)")"
        case .unreadable(let error): return error.message
        case .status(let code, let line):
            let hint =
                switch code {
                case 404: "; is the provider allowed (OAUTH_FORWARD_PROVIDERS)? --provider picks another"
                case 400:
                    "; with OAUTH_FORWARD_TARGET=auto and no fallback, the probe's state (not a Junction token) is "
                        + "refused: only a fallback takes it"
                case 500:
                    "; the daemon's log says which variable is wrong, or missing: if the web server sends it "
                        + "(fastcgi_param), give the probe the same, e.g. --param OAUTH_FORWARD_TARGET=production-us"
                default: ""
                }
            return "\(line), not 307 Temporary Redirect\(hint)"
        case .queryNotForwarded(let line):
            return
                "\(line), but its Location does not end with ?\(String(decoding: HealthProbe.query, as: UTF8.self)): "
                + "the answer is not a callback forwarded byte for byte"
        }
    }
}
