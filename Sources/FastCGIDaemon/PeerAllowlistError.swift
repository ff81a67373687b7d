/// An allowlist that cannot be used, or a socket that needs one.
package enum PeerAllowlistError: Error, Equatable {
    /// An empty list, or an empty item in it (`10.0.0.5,,10.0.0.6`).
    case empty(String)
    /// A host name, a range or a typo: only numeric addresses work, so nothing is looked up.
    case notNumeric(String)
    /// A TCP socket bound to an address other machines can reach, with no allowlist.
    case exposed(String)

    package var message: String {
        switch self {
        case .empty(let list):
            "the allowlist \"\(list)\" has an empty entry: give numeric addresses separated by commas"
        case .notNumeric(let item):
            "\"\(item)\" in the allowlist is not a numeric IPv4 or IPv6 address; names are not looked up"
        case .exposed(let address):
            "\(address) can be reached from other machines, and nothing limits who connects: anyone who reaches it "
                + "could send requests, and the records that abort libfcgi. Give --allow-from with the web "
                + "server's addresses (or set \(PeerAllowlist.variable)), or listen on 127.0.0.1 or a unix socket"
        }
    }
}
