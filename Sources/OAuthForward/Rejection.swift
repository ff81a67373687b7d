/// Every reason a request is not forwarded. Each carries the status it answers with and the reason its log line
/// gives; the public body is fixed per status and never echoes input.
package enum Rejection: Error, Equatable, Sendable {
    /// A FastCGI role other than RESPONDER (AUTHORIZER or FILTER): the web server is set up wrong.
    case unsupportedRole
    /// The target or the allowlist cannot be read.
    case misconfigured(ConfigurationError)
    /// A method other than GET, HEAD and POST.
    case methodNotAllowed
    /// `PATH_INFO` is not `/` and a provider name.
    case invalidProvider
    /// A well-formed provider that `OAUTH_FORWARD_PROVIDERS` does not list.
    case providerNotAllowed
    /// A control byte (0x00-0x1F, 0x7F) in the query.
    case controlByteInQuery
    /// `auto` mode: more than one `state` parameter, whatever the fallback.
    case duplicateState
    /// `auto` mode without a fallback: the state is not a Junction token of an allowed environment.
    case stateNotJunction(StateToken.NotJunction)

    package var status: HTTPStatus {
        switch self {
        case .unsupportedRole, .misconfigured: .internalServerError
        case .methodNotAllowed: .methodNotAllowed
        case .invalidProvider, .providerNotAllowed: .notFound
        case .controlByteInQuery, .duplicateState, .stateNotJunction: .badRequest
        }
    }

    package var logReason: String {
        switch self {
        case .unsupportedRole: "FastCGI role is not RESPONDER"
        case .misconfigured(let error): error.message
        case .methodNotAllowed: "method not allowed"
        case .invalidProvider: "path is not /{provider} with provider of \(ProviderSlug.rule)"
        case .providerNotAllowed: "provider not in \(ProviderAllowlist.variable)"
        case .controlByteInQuery: "control byte in query"
        case .duplicateState: "more than one state parameter"
        case .stateNotJunction: "state is not a Junction token for an allowed environment"
        }
    }

    package var response: CGIResponse {
        switch self {
        case .unsupportedRole, .misconfigured:
            .plainText(status, text: "The OAuth callback forwarder is not configured correctly.")
        case .methodNotAllowed:
            .plainText(
                status, text: "Method not allowed.",
                extraFields: [HeaderField("Allow", Forwarder.forwardedMethods.joined(separator: ", "))])
        case .invalidProvider, .providerNotAllowed: .plainText(status, text: "Unknown OAuth callback.")
        case .controlByteInQuery: .plainText(status, text: "Malformed OAuth callback.")
        case .duplicateState: .plainText(status, text: "Malformed OAuth callback: more than one state parameter.")
        case .stateNotJunction:
            .plainText(status, text: "The state is not a Junction token for an allowed environment.")
        }
    }
}
