import ArgumentParser
import FastCGIDaemon
import OAuthForward

/// The process-level forms of the variables; flags win over the environment.
struct TargetOptions: ParsableArguments {
    @Option(help: "Where to forward: a preset, auto, or an https:// URL template. Overrides OAUTH_FORWARD_TARGET.")
    var target: String?

    @Option(help: "Comma-separated providers to forward. Overrides OAUTH_FORWARD_PROVIDERS.")
    var providers: String?

    @Option(help: "With --target auto: the environments to forward to. Overrides OAUTH_FORWARD_ENVIRONMENTS.")
    var environments: String?

    @Option(help: "With --target auto: where other callbacks go. Overrides OAUTH_FORWARD_FALLBACK.")
    var fallback: String?

    private var flags: [(variable: String, flag: String, value: String?)] {
        [
            (ForwardTarget.variable, "--target", target), (ProviderAllowlist.variable, "--providers", providers),
            (Configuration.environmentsVariable, "--environments", environments),
            (Configuration.fallbackVariable, "--fallback", fallback),
        ]
    }

    /// Each variable's value and where it came from: a flag, the environment, or nowhere.
    func sources() -> [(variable: String, value: [UInt8]?, source: String)] {
        flags.map { variable, flag, value in
            if let value { return (variable, Array(value.utf8), flag) }
            if let value = ProcessIO.environment(variable) { return (variable, value, "environment") }
            return (variable, nil, "unset")
        }
    }

    var values: ConfigurationValues {
        let found = Dictionary(uniqueKeysWithValues: sources().map { ($0.variable, $0.value) })
        return ConfigurationValues { found[$0] ?? nil }
    }

    /// What the workers get in their environment, so flags reach them as process-level values.
    var workerEnvironment: [(String, String)] {
        flags.compactMap { variable, _, value in value.map { (variable, $0) } }
    }
}
