/// A configuration that cannot serve any request. The message names the variable, what is wrong with it and the
/// values it takes; it never repeats the value, so a log line holds nothing the operator did not write.
package enum ConfigurationError: Error, Equatable, Sendable {
    case target(TargetError)
    case providers(AllowlistError)
    case environments(EnvironmentsError)
    case fallback(TargetError)
    case pathPrefix(PathPrefixError)
    /// The settings file beside the program (`ScriptSettings`) exists and was refused.
    case settingsFile(path: String, SettingsFileProblem)

    package var message: String {
        switch self {
        case .target(.unset):
            "\(ForwardTarget.variable) is not set: set it where the web server passes variables to the program "
                + "(SetEnv, fastcgi_param), or, where it cannot (suEXEC), in \(ScriptSettings.fileName) beside the "
                + "program; valid values: \(JunctionEnvironment.presetList), auto, or an https:// URL template such as "
                + "https://example.com/callback/{provider}"
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
        case .pathPrefix(let error):
            "\(Configuration.pathPrefixVariable) \(error.problem); give the path in front of /{provider} that the "
                + "web server leaves in PATH_INFO, such as /oauth_callback, or leave it unset where PATH_INFO is "
                + "/{provider}"
        case .settingsFile(let path, let problem):
            "\(MessageText.escaped(path)) \(problem.problem)"
        }
    }
}
