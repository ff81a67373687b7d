import OAuthForward

/// An allowlist that cannot be used, or a socket that needs one.
package enum PeerAllowlistError: Error, Equatable {
    /// An empty list, or an empty item in it (`10.0.0.5,,10.0.0.6`).
    case empty(String)
    /// A host name or a typo: only numeric addresses work, so nothing is looked up.
    case notNumeric(String)
    /// A range whose prefix length is not a plain decimal number (`10.0.0.0/`, `10.0.0.0/08`, `10.0.0.0/8/8`).
    case malformedRange(String)
    /// A prefix longer than the address: more than 32 bits for IPv4, 128 for IPv6.
    case prefixTooLong(String, maximum: Int)
    /// A range written with an address inside it rather than its first one (`10.0.0.1/8`), and the network the
    /// prefix gives. Refused rather than widened, since `10.0.0.1/8` may have meant `10.0.0.1/32`.
    case hostBitsSet(String, network: String)
    /// An IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`). Peers at such addresses are compared as IPv4, so it
    /// would match nobody; the IPv4 range it stands for is given.
    case mappedRange(String, ipv4: String)
    /// A TCP socket bound to an address other machines can reach, with no allowlist.
    case exposed(String)

    package var message: String {
        // Every quoted value comes from the environment or the command line: its control bytes are escaped.
        let quoted = { (value: String) in "\"" + MessageText.escaped(value) + "\"" }
        return switch self {
        case .empty(let list):
            "the allowlist \(quoted(list)) has an empty entry: give numeric addresses or CIDR ranges separated by "
                + "commas"
        case .notNumeric(let item):
            "\(quoted(item)) in the allowlist is not a numeric IPv4 or IPv6 address or CIDR range; names are not "
                + "looked up"
        case .malformedRange(let item):
            "\(quoted(item)) in the allowlist is not a CIDR range: write the prefix length as a decimal number after "
                + "one slash, such as 10.0.0.0/8 or fd00::/8"
        case .prefixTooLong(let item, let maximum):
            "\(quoted(item)) in the allowlist has a prefix longer than its address: at most /\(maximum)"
        case .hostBitsSet(let item, let network):
            "\(quoted(item)) in the allowlist has bits set after its prefix: write the network, \(network), or a "
                + "single address without a prefix"
        case .mappedRange(let item, let ipv4):
            "\(quoted(item)) in the allowlist is an IPv4-mapped IPv6 range, which would match nobody: IPv4 peers are "
                + "compared as IPv4, so write \(ipv4)"
        case .exposed(let address):
            "\(address) can be reached from other machines, and nothing limits who connects: anyone who reaches it "
                + "could send requests, and the records that abort libfcgi. Give --allow-from with the web "
                + "server's addresses or ranges (or set \(PeerAllowlist.variable)), or listen on 127.0.0.1 or a unix "
                + "socket"
        }
    }
}
