/// The raw values of the five variables, from one source: a request's parameters, the process environment or
/// flags. `nil` is unset.
public struct ConfigurationValues: Equatable, Sendable {
    public var target: [UInt8]?
    public var providers: [UInt8]?
    public var environments: [UInt8]?
    public var fallback: [UInt8]?
    public var pathPrefix: [UInt8]?

    public init(
        target: [UInt8]? = nil, providers: [UInt8]? = nil, environments: [UInt8]? = nil, fallback: [UInt8]? = nil,
        pathPrefix: [UInt8]? = nil
    ) {
        self.target = target
        self.providers = providers
        self.environments = environments
        self.fallback = fallback
        self.pathPrefix = pathPrefix
    }

    /// Reads each variable through `lookup`.
    public init(_ lookup: (String) -> [UInt8]?) {
        self.init(
            target: lookup(ForwardTarget.variable), providers: lookup(ProviderAllowlist.variable),
            environments: lookup(Configuration.environmentsVariable), fallback: lookup(Configuration.fallbackVariable),
            pathPrefix: lookup(Configuration.pathPrefixVariable))
    }

    public func value(of variable: ConfigurationVariable) -> [UInt8]? {
        switch variable {
        case .target: target
        case .providers: providers
        case .environments: environments
        case .fallback: fallback
        case .pathPrefix: pathPrefix
        }
    }

    public var isEmpty: Bool {
        target == nil && providers == nil && environments == nil && fallback == nil && pathPrefix == nil
    }

    /// Whether all five are set. By pattern, not `!= nil`: that comparison is generic, and on a CGI start it made
    /// the runtime build `Optional<[UInt8]>`'s metadata, about 52,000 instructions (callgrind,
    /// scripts/test-instructions).
    public var isComplete: Bool {
        guard case .some = target, case .some = providers, case .some = environments, case .some = fallback,
            case .some = pathPrefix
        else {
            return false
        }
        return true
    }

    /// These values where set, `base` for the rest: a request's own parameters win, variable by variable.
    /// By pattern rather than `??`, which is generic: see `isComplete` (scripts/test-instructions).
    public func overriding(_ base: ConfigurationValues) -> ConfigurationValues {
        func pick(_ own: [UInt8]?, _ other: [UInt8]?) -> [UInt8]? {
            if case .some(let value) = own { return value }
            return other
        }
        return ConfigurationValues(
            target: pick(target, base.target), providers: pick(providers, base.providers),
            environments: pick(environments, base.environments), fallback: pick(fallback, base.fallback),
            pathPrefix: pick(pathPrefix, base.pathPrefix))
    }

    public func configuration() -> ConfigurationResult {
        ConfigurationResult { () throws(ConfigurationError) in
            try Configuration(
                target: target, providers: providers, environments: environments, fallback: fallback,
                pathPrefix: pathPrefix)
        }
    }
}
