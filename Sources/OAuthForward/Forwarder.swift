/// The request contract: a request and a configuration in, a response and a log line out. Pure and total.
public enum Forwarder {
    public static func respond(
        to request: CGIRequest,
        configuration: ConfigurationResult
    ) -> ForwardOutcome {
        var log = RequestLog(request: request)
        if case .success(let configuration) = configuration {
            log.target = configuration.targetLogName
            // Only a prefix changes where the provider is: RequestLog read it from PATH_INFO alone.
            if !configuration.pathPrefix.bytes.isEmpty { log.provider = configuration.provider(of: request)?.name }
        }
        let response: CGIResponse
        do throws(Rejection) {
            let decision = try forward(request, configuration: configuration)
            log.target = decision.target
            log.route = decision.route
            log.state = decision.state
            log.trailingSlash = decision.trailingSlash
            response = decision.response
        } catch {
            log.reason = error.logReason
            if case .stateNotJunction(let why) = error {
                log.route = "rejected"
                log.state = why.rawValue
            } else if error == .duplicateState {
                log.route = "rejected"
                log.state = "duplicate"
            }
            response = error.response
        }
        log.status = response.status.rawValue
        return ForwardOutcome(response: response, log: log, isHead: request.isHead)
    }

    /// The answer to a request that is not refused, and what its log line says about it.
    struct Decision {
        /// The 307 to where a callback goes, or the 200 to a reachability check.
        var response: CGIResponse
        var target: String
        /// `reachability` for a GET or HEAD without a query; in `auto` mode, `aud_match` or `fallback`.
        var route: String? = nil
        /// In `auto` mode, when the state was not a Junction token of an allowed environment: why not.
        var state: String? = nil
        /// The path ended with the one slash after the provider name that is accepted.
        var trailingSlash = false
    }

    /// The checks, in order: the server's setup, the deployment's configuration, then the request itself.
    static func forward(
        _ request: CGIRequest,
        configuration result: ConfigurationResult
    ) throws(Rejection) -> Decision {
        if let role = request.role, !role.elementsEqual("RESPONDER".utf8) {
            throw .unsupportedRole
        }
        let configuration: Configuration
        switch result {
        case .success(let value): configuration = value
        case .failure(let error): throw .misconfigured(error)
        }
        guard let method = request.method, Self.forwardedMethods.contains(where: { method.elementsEqual($0.utf8) })
        else {
            throw .methodNotAllowed
        }
        guard let provider = configuration.provider(of: request) else {
            throw .invalidProvider
        }
        if let allowlist = configuration.allowlist, !allowlist.contains(provider) {
            throw .providerNotAllowed
        }
        // Only the path that names a provider gets here, so its last byte is a slash only when one was added.
        let trailingSlash = request.pathInfo.map(ProviderSlug.hasTrailingSlash) == true
        // A callback always carries a query: `code` or `error`, with `state`. A GET or HEAD without one is a
        // reachability check, in every mode. A POST without one is a form_post callback, its fields in the body.
        if request.query.isEmpty, !method.elementsEqual("POST".utf8) {
            return Decision(
                response: .reachability(of: provider), target: configuration.targetLogName, route: "reachability",
                trailingSlash: trailingSlash)
        }
        if request.query.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw .controlByteInQuery
        }
        switch configuration.route {
        case .fixed(let target):
            return Decision(
                response: .redirect(to: target.location(provider: provider, query: request.query)),
                target: target.logName, trailingSlash: trailingSlash)
        case .byState(let environments, let fallback):
            switch StateToken.find(in: request.query, allowed: environments) {
            case .duplicate:
                throw .duplicateState
            case .junction(let environment):
                let target = ForwardTarget(environment)
                return Decision(
                    response: .redirect(to: target.location(provider: provider, query: request.query)),
                    target: target.logName, route: "aud_match", trailingSlash: trailingSlash)
            case .other(let why):
                guard let fallback else { throw .stateNotJunction(why) }
                return Decision(
                    response: .redirect(to: fallback.location(provider: provider, query: request.query)),
                    target: fallback.logName, route: "fallback", state: why.rawValue, trailingSlash: trailingSlash)
            }
        }
    }

    static let forwardedMethods = ["GET", "HEAD", "POST"]
}
