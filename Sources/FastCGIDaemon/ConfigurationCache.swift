import OAuthForward

/// The configuration a thread read last. nginx sends `fastcgi_param OAUTH_FORWARD_TARGET` with every request,
/// nearly always the same: comparing the raw values is cheaper than parsing them again.
struct ConfigurationCache {
    private var values: ConfigurationValues?
    private var result: ConfigurationResult?

    mutating func configuration(for values: ConfigurationValues) -> ConfigurationResult {
        if let result, self.values == values { return result }
        let parsed = values.configuration()
        self.values = values
        result = parsed
        return parsed
    }
}
