/// What one request is answered with: where to forward, and which providers may be forwarded.
public struct Configuration: Equatable, Sendable {
    public let target: ForwardTarget
    public let allowlist: ProviderAllowlist?

    public init(target: ForwardTarget, allowlist: ProviderAllowlist? = nil) {
        self.target = target
        self.allowlist = allowlist
    }

    /// Reads the raw values of `OAUTH_FORWARD_TARGET` and `OAUTH_FORWARD_PROVIDERS`; `nil` means unset.
    public init(target: [UInt8]?, providers: [UInt8]?) throws(ConfigurationError) {
        guard let target else { throw .target(.unset) }
        do {
            self.target = try ForwardTarget(parsing: target)
        } catch {
            throw .target(error)
        }
        do {
            self.allowlist = try providers.map { value throws(AllowlistError) in try ProviderAllowlist(parsing: value) }
        } catch {
            throw .providers(error)
        }
    }
}

/// A configuration that cannot serve any request. The message names the variable, what is wrong with it and the
/// values it takes; it never repeats the value, so a log line holds nothing the operator did not write.
public enum ConfigurationError: Error, Equatable, Sendable {
    case target(TargetError)
    case providers(AllowlistError)

    public var message: String {
        switch self {
        case .target(let error):
            "\(ForwardTarget.variable) \(error.problem); valid values: \(JunctionEnvironment.presetList), "
                + "or an https:// URL template such as https://example.com/callback/{provider}"
        case .providers(let error):
            "\(ProviderAllowlist.variable) \(error.problem); expected comma-separated provider names "
                + "of 1 to 64 [a-z0-9_], such as oura,fitbit"
        }
    }
}
