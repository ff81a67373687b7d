/// The raw values of the four variables, from one source: a request's parameters, the process environment or
/// flags. `nil` is unset.
public struct ConfigurationValues: Equatable, Sendable {
    public var target: [UInt8]?
    public var providers: [UInt8]?
    public var environments: [UInt8]?
    public var fallback: [UInt8]?

    public init(
        target: [UInt8]? = nil, providers: [UInt8]? = nil, environments: [UInt8]? = nil, fallback: [UInt8]? = nil
    ) {
        self.target = target
        self.providers = providers
        self.environments = environments
        self.fallback = fallback
    }

    /// Reads each variable through `lookup`.
    public init(_ lookup: (String) -> [UInt8]?) {
        self.init(
            target: lookup(ForwardTarget.variable), providers: lookup(ProviderAllowlist.variable),
            environments: lookup(Configuration.environmentsVariable), fallback: lookup(Configuration.fallbackVariable))
    }

    public var isEmpty: Bool { target == nil && providers == nil && environments == nil && fallback == nil }

    /// These values where set, `base` for the rest: a request's own parameters win, variable by variable.
    public func overriding(_ base: ConfigurationValues) -> ConfigurationValues {
        ConfigurationValues(
            target: target ?? base.target, providers: providers ?? base.providers,
            environments: environments ?? base.environments, fallback: fallback ?? base.fallback)
    }

    public func configuration() -> ConfigurationResult {
        ConfigurationResult { () throws(ConfigurationError) in
            try Configuration(target: target, providers: providers, environments: environments, fallback: fallback)
        }
    }
}
