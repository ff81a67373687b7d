/// What one request is answered with: where to forward, which providers may be forwarded, and where in `PATH_INFO`
/// the provider is.
package struct Configuration: Equatable, Sendable {
    /// How the destination is chosen.
    package enum Route: Equatable, Sendable {
        /// Always the same target.
        case fixed(ForwardTarget)
        /// `OAUTH_FORWARD_TARGET=auto`: by the `aud` of the Junction token in `state`, among `environments`;
        /// every other callback goes to `fallback`, or is refused without one.
        case byState(environments: [JunctionEnvironment], fallback: ForwardTarget?)
    }

    package static let environmentsVariable = ConfigurationVariable.environments.name
    package static let fallbackVariable = ConfigurationVariable.fallback.name
    package static let pathPrefixVariable = ConfigurationVariable.pathPrefix.name
    static let auto = Array("auto".utf8)

    package let route: Route
    package let allowlist: ProviderAllowlist?
    /// `PathPrefix.none` when `OAUTH_FORWARD_PATH_PREFIX` is unset. Not an optional, so that reading it on every
    /// request needs no generic code.
    package let pathPrefix: PathPrefix

    package init(target: ForwardTarget, allowlist: ProviderAllowlist? = nil, pathPrefix: PathPrefix = .none) {
        self.route = .fixed(target)
        self.allowlist = allowlist
        self.pathPrefix = pathPrefix
    }

    /// What the variables' raw values configure.
    package init(values: ConfigurationValues) throws(ConfigurationError) {
        try self.init(
            target: values[.target], providers: values[.providers], environments: values[.environments],
            fallback: values[.fallback], pathPrefix: values[.pathPrefix])
    }

    /// Reads the raw values of the variables; `nil` means unset. `OAUTH_FORWARD_ENVIRONMENTS` and
    /// `OAUTH_FORWARD_FALLBACK` are read only when the target is `auto`.
    package init(
        target: [UInt8]?, providers: [UInt8]?, environments: [UInt8]? = nil, fallback: [UInt8]? = nil,
        pathPrefix: [UInt8]? = nil
    ) throws(ConfigurationError) {
        guard let target else { throw .target(.unset) }
        if target == Self.auto {
            guard let environments else { throw .environments(.unset) }
            let allowed = try Self.environments(parsing: environments)
            var fallbackTarget: ForwardTarget? = nil
            if let fallback {
                do {
                    fallbackTarget = try ForwardTarget(parsing: fallback)
                } catch {
                    throw .fallback(error)
                }
                if case .preset = fallbackTarget?.kind { throw .fallback(.presetAsFallback) }
                if let fallbackTarget, JunctionEnvironment(apiHost: fallbackTarget.hostName) != nil {
                    throw .fallback(.junctionHostAsFallback)
                }
            }
            route = .byState(environments: allowed, fallback: fallbackTarget)
        } else {
            do {
                route = .fixed(try ForwardTarget(parsing: target))
            } catch {
                throw .target(error)
            }
        }
        do {
            self.allowlist = try providers.map { value throws(AllowlistError) in try ProviderAllowlist(parsing: value) }
        } catch {
            throw .providers(error)
        }
        if let pathPrefix {
            do {
                self.pathPrefix = try PathPrefix(parsing: pathPrefix)
            } catch {
                throw .pathPrefix(error)
            }
        } else {
            self.pathPrefix = .none
        }
    }

    /// The provider the request's `PATH_INFO` names, after the path prefix if there is one.
    package func provider(of request: CGIRequest) -> ProviderSlug? {
        request.pathInfo.flatMap(pathPrefix.provider(inPathInfo:))
    }

    static func environments(parsing value: [UInt8]) throws(ConfigurationError) -> [JunctionEnvironment] {
        var environments: [JunctionEnvironment] = []
        for (position, entry) in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            .enumerated()
        {
            guard let environment = JunctionEnvironment(preset: entry.trimmingSpaces) else {
                throw .environments(.invalidEntry(position: position + 1))
            }
            if !environments.contains(environment) { environments.append(environment) }
        }
        return environments
    }

    /// What a log line may say about the destination before a request is decided.
    package var targetLogName: String {
        switch route {
        case .fixed(let target): target.logName
        case .byState: "auto"
        }
    }
}
