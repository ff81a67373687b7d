/// What one request is answered with: where to forward, and which providers may be forwarded.
public struct Configuration: Equatable, Sendable {
    /// How the destination is chosen.
    public enum Route: Equatable, Sendable {
        /// Always the same target.
        case fixed(ForwardTarget)
        /// `OAUTH_FORWARD_TARGET=auto`: by the `aud` of the Junction token in `state`, among `environments`;
        /// every other callback goes to `fallback`, or is refused without one.
        case byState(environments: [JunctionEnvironment], fallback: ForwardTarget?)
    }

    public static let environmentsVariable = ConfigurationVariable.environments.name
    public static let fallbackVariable = ConfigurationVariable.fallback.name
    static let auto = Array("auto".utf8)

    public let route: Route
    public let allowlist: ProviderAllowlist?

    public init(target: ForwardTarget, allowlist: ProviderAllowlist? = nil) {
        self.route = .fixed(target)
        self.allowlist = allowlist
    }

    /// Reads the raw values of the variables; `nil` means unset. `OAUTH_FORWARD_ENVIRONMENTS` and
    /// `OAUTH_FORWARD_FALLBACK` are read only when the target is `auto`.
    public init(
        target: [UInt8]?, providers: [UInt8]?, environments: [UInt8]? = nil, fallback: [UInt8]? = nil
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
    public var targetLogName: String {
        switch route {
        case .fixed(let target): target.logName
        case .byState: "auto"
        }
    }
}

/// Why `OAUTH_FORWARD_ENVIRONMENTS` was refused.
public enum EnvironmentsError: Error, Equatable, Sendable {
    case unset
    case invalidEntry(position: Int)
}

/// A configuration that cannot serve any request. The message names the variable, what is wrong with it and the
/// values it takes; it never repeats the value, so a log line holds nothing the operator did not write.
public enum ConfigurationError: Error, Equatable, Sendable {
    case target(TargetError)
    case providers(AllowlistError)
    case environments(EnvironmentsError)
    case fallback(TargetError)

    public var message: String {
        switch self {
        case .target(let error):
            "\(ForwardTarget.variable) \(error.problem); valid values: \(JunctionEnvironment.presetList), auto, "
                + "or an https:// URL template such as https://example.com/callback/{provider}"
        case .providers(let error):
            "\(ProviderAllowlist.variable) \(error.problem); expected comma-separated provider names "
                + "of \(ProviderSlug.rule), such as oura,fitbit"
        case .environments(.unset):
            "\(Configuration.environmentsVariable) is required when \(ForwardTarget.variable)=auto; give the "
                + "environments to forward to, comma-separated, from \(JunctionEnvironment.presetList)"
        case .environments(.invalidEntry(let position)):
            "\(Configuration.environmentsVariable) has an entry at position \(position) that is not one of "
                + JunctionEnvironment.presetList
        case .fallback(let error):
            "\(Configuration.fallbackVariable) \(error.problem); give the https:// URL of your own callback "
                + "endpoint, such as https://example.com/oauth/callback"
        }
    }
}

extension ArraySlice<UInt8> {
    /// Without leading and trailing spaces. On bytes and by index: the same on `String` through `reversed()`
    /// ran as generic code, about a million instructions per CGI start (callgrind, docs/BENCHMARKS.md).
    var trimmingSpaces: ArraySlice<UInt8> {
        var slice = self
        while slice.first == UInt8(ascii: " ") { slice = slice.dropFirst() }
        while slice.last == UInt8(ascii: " ") { slice = slice.dropLast() }
        return slice
    }
}

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

/// A configuration, or why there is none.
///
/// Not the standard library's `Result`: that type is resilient, so using it makes the runtime build its metadata
/// and check `Failure: Error` against every conformance record in the binary. Measured with callgrind on the
/// static release binary, that one lookup cost about 140,000 instructions, over a third of a CGI request.
public enum ConfigurationResult: Equatable, Sendable {
    case success(Configuration)
    case failure(ConfigurationError)

    public init(_ body: () throws(ConfigurationError) -> Configuration) {
        do {
            self = .success(try body())
        } catch {
            self = .failure(error)
        }
    }
}
