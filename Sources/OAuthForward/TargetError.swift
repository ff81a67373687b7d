/// Why a value of `OAUTH_FORWARD_TARGET` was refused.
package enum TargetError: Error, Equatable, Sendable {
    /// The variable is not set at all. There is no default environment.
    case unset
    case empty
    /// Not a URL, and not one of the four preset names.
    case unknownPreset
    /// Something URL-like (it holds `:` or `/`) that does not start with `https://` or loopback `http://`.
    case unsupportedScheme
    /// `http://` to a host other than 127.0.0.1, [::1] or localhost.
    case plainHTTPNotLoopback
    case invalidHost
    /// A port that is empty, has a leading zero, or lies outside 1 to 65535.
    case invalidPort
    case hasQuery
    case hasFragment
    case placeholderRepeated
    case placeholderOutsidePath
    /// A `{` or `}` that is not part of `{provider}`.
    case strayBrace
    /// A space, a control byte, a non-ASCII byte or another byte that a URL path cannot hold raw.
    case invalidCharacter
    /// A `%` not followed by two hex digits.
    case invalidPercentEscape
    /// `%{provider}`: the provider name would complete the escape, so `2f` would make an encoded slash.
    case percentBeforePlaceholder
    /// A preset where only a URL will do (`OAUTH_FORWARD_FALLBACK`).
    case presetAsFallback
    /// A Junction API host as `OAUTH_FORWARD_FALLBACK`, which takes the callbacks that are not Junction's.
    case junctionHostAsFallback

    package var problem: String {
        switch self {
        case .unset: "is not set"
        case .empty: "is empty"
        case .unknownPreset: "is not a known preset"
        case .unsupportedScheme: "is neither a preset nor a URL starting with https://"
        case .plainHTTPNotLoopback: "uses http:// for a host other than 127.0.0.1, [::1] or localhost"
        case .invalidHost: "has no valid host"
        case .invalidPort: "has a port that is not 1 to 65535 without a leading zero"
        case .hasQuery: "has a query of its own"
        case .hasFragment: "has a fragment"
        case .placeholderRepeated: "holds {provider} more than once"
        case .placeholderOutsidePath: "holds {provider} outside the path"
        case .strayBrace: "holds a brace that is not part of {provider}"
        case .invalidCharacter: "holds a byte that a URL path cannot carry raw"
        case .invalidPercentEscape: "holds a % that is not followed by two hex digits"
        case .percentBeforePlaceholder: "holds % right before {provider}, which the provider name would complete"
        case .presetAsFallback: "is a preset, not a URL"
        case .junctionHostAsFallback: "is a Junction API host; the fallback takes callbacks that are not Junction's"
        }
    }
}
