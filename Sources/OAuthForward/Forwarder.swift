/// The request contract: a request and a configuration in, a response and a log line out. Pure and total.
package enum Forwarder {
    package static func respond(
        to request: CGIRequest,
        configuration: ConfigurationResult
    ) -> ForwardOutcome {
        // Read once, for the log and the answer: after the path prefix when there is a configuration, from
        // `PATH_INFO` alone when there is none.
        let provider: ProviderSlug?
        if case .success(let configuration) = configuration {
            provider = configuration.provider(of: request)
        } else if let pathInfo = request.pathInfo {
            provider = ProviderSlug(pathInfo: pathInfo)
        } else {
            provider = nil
        }
        var log = RequestLog(request: request, provider: provider)
        if case .success(let configuration) = configuration { log.target = configuration.targetLogName }
        let response: CGIResponse
        do throws(Rejection) {
            response = try forward(request, provider: provider, configuration: configuration, log: &log)
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

    /// The checks, in order: the server's setup, the deployment's configuration, then the request itself. The answer
    /// to a request that is not refused: the 307 to where a callback goes, or the 200 to a reachability check. What
    /// the log line says about it goes straight into `log`, only once nothing can refuse it any more: a `String?`
    /// copied from a returned value went through a generic outlined copy that made the runtime build
    /// `Optional<String>`'s metadata on every CGI start, about 36,000 instructions (callgrind,
    /// scripts/test-instructions).
    static func forward(
        _ request: CGIRequest,
        provider: ProviderSlug?,
        configuration result: ConfigurationResult,
        log: inout RequestLog
    ) throws(Rejection) -> CGIResponse {
        if let role = request.role, role != Self.responderRole {
            throw .unsupportedRole
        }
        let configuration: Configuration
        switch result {
        case .success(let value): configuration = value
        case .failure(let error): throw .misconfigured(error)
        }
        guard let method = request.method, method == Self.get || method == Self.head || method == Self.post else {
            throw .methodNotAllowed
        }
        guard let provider else {
            throw .invalidProvider
        }
        if let allowlist = configuration.allowlist, !allowlist.contains(provider) {
            throw .providerNotAllowed
        }
        // Only the path that names a provider gets here, so its last byte is a slash only when one was added.
        let trailingSlash = request.pathInfo.map(ProviderSlug.hasTrailingSlash) == true
        // A callback always carries a query: `code` or `error`, with `state`. A GET or HEAD without one is a
        // reachability check, in every mode. A POST without one is a form_post callback, its fields in the body.
        if request.query.isEmpty, method != Self.post {
            log.decided(target: configuration.targetLogName, route: "reachability", trailingSlash: trailingSlash)
            return .reachability(of: provider)
        }
        if request.query.containsControlByte {
            throw .controlByteInQuery
        }
        switch configuration.route {
        case .fixed(let target):
            log.decided(target: target.logName, trailingSlash: trailingSlash)
            return .redirect(to: target.location(provider: provider, query: request.query))
        case .byState(let environments, let fallback):
            switch StateToken.find(in: request.query, allowed: environments) {
            case .duplicate:
                throw .duplicateState
            case .junction(let environment):
                let target = ForwardTarget(environment)
                log.decided(target: target.logName, route: "aud_match", trailingSlash: trailingSlash)
                return .redirect(to: target.location(provider: provider, query: request.query))
            case .other(let why):
                guard let fallback else { throw .stateNotJunction(why) }
                log.decided(
                    target: fallback.logName, route: "fallback", state: why.rawValue, trailingSlash: trailingSlash)
                return .redirect(to: fallback.location(provider: provider, query: request.query))
            }
        }
    }

    /// What `Allow` says.
    static var forwardedMethods: [String] { [get, head, post].map { String(decoding: $0, as: UTF8.self) } }

    // The methods forwarded, compared as byte arrays: against a String's UTF-8 view the comparison went through the
    // generic sequence path, about 750 instructions per request in the daemon's profile. One constant each, not an
    // array of arrays, whose metadata the runtime would build on a CGI start.
    private static let get = Array("GET".utf8)
    private static let head = Array("HEAD".utf8)
    private static let post = Array("POST".utf8)
    private static let responderRole = Array("RESPONDER".utf8)
}
