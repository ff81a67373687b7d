import OAuthForward

/// The configuration a thread read last. nginx sends `fastcgi_param OAUTH_FORWARD_TARGET` with every request,
/// nearly always the same: comparing a request's values in place with the ones before is cheaper than copying
/// them, let alone parsing them again.
struct ConfigurationCache {
    /// The last request's own values, before the process's filled in what it left unset.
    private var values = ConfigurationValues()
    private var result: ConfigurationResult?

    /// The configuration for a request whose own values `lookup` lends, `process` filling in the rest.
    mutating func configuration(
        for lookup: (ConfigurationVariable) -> UnsafeBufferPointer<UInt8>?,
        process: ConfigurationValues,
        processConfiguration: ConfigurationResult
    ) -> ConfigurationResult {
        if let result, values.matches(lookup) { return result }
        let own = ConfigurationValues(lending: lookup)
        let parsed = own.isEmpty ? processConfiguration : own.overriding(process).configuration()
        values = own
        result = parsed
        return parsed
    }
}
