import ArgumentParser
import FastCGIDaemon
import OAuthForward

/// The process-level forms of the variables; flags win over the environment.
struct TargetOptions: ParsableArguments {
    @Option(help: ArgumentHelp(Self.help(.target))) var target: String?
    @Option(help: ArgumentHelp(Self.help(.providers))) var providers: String?
    @Option(help: ArgumentHelp(Self.help(.environments))) var environments: String?
    @Option(help: ArgumentHelp(Self.help(.fallback))) var fallback: String?

    private static func help(_ variable: ConfigurationVariable) -> String {
        "\(variable.plainValues). Overrides \(variable.name)."
    }

    private var flags: [(variable: ConfigurationVariable, value: String?)] {
        [(.target, target), (.providers, providers), (.environments, environments), (.fallback, fallback)]
    }

    /// Each variable's value and where it came from: a flag, the environment, or nowhere.
    func sources() -> [(variable: String, value: [UInt8]?, source: String)] {
        flags.map { variable, value in
            if let value { return (variable.name, Array(value.utf8), variable.flag) }
            if let value = ProcessIO.environment(variable.name) { return (variable.name, value, "environment") }
            return (variable.name, nil, "unset")
        }
    }

    var values: ConfigurationValues {
        let found = Dictionary(uniqueKeysWithValues: sources().map { ($0.variable, $0.value) })
        return ConfigurationValues { found[$0] ?? nil }
    }

    /// What the workers get in their environment, so flags reach them as process-level values.
    var workerEnvironment: [(String, String)] {
        flags.compactMap { variable, value in value.map { (variable.name, $0) } }
    }
}
