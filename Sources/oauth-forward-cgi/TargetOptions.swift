import ArgumentParser
import FastCGIDaemon
import OAuthForward

/// The process-level forms of the variables: flags, the environment, and a settings file, in that order of
/// precedence.
struct TargetOptions: ParsableArguments {
    @Option(help: ArgumentHelp(Self.help(.target))) var target: String?
    @Option(help: ArgumentHelp(Self.help(.providers))) var providers: String?
    @Option(help: ArgumentHelp(Self.help(.environments))) var environments: String?
    @Option(help: ArgumentHelp(Self.help(.fallback))) var fallback: String?
    @Option(help: ArgumentHelp(Self.help(.pathPrefix))) var pathPrefix: String?
    @Option(
        help: ArgumentHelp(
            "A file of NAME=value lines setting the variables above, such as /etc/default/oauth-forward-cgi; the "
                + "environment and the flags win over it. serve reads it at start and again at each reload (SIGHUP), "
                + "and takes more of its own flags from \(SettingsFile.optionsName) in it.",
            valueName: "file"))
    var config: String?

    private static func help(_ variable: ConfigurationVariable) -> String {
        "\(variable.plainValues). Overrides \(variable.name)."
    }

    private var flags: [(variable: ConfigurationVariable, value: String?)] {
        [
            (.target, target), (.providers, providers), (.environments, environments), (.fallback, fallback),
            (.pathPrefix, pathPrefix),
        ]
    }

    /// The file `--config` names, read; nil without `--config`. `serve` allows `OAUTH_FORWARD_OPTIONS` in it. In a
    /// reload, the bytes come from the `snapshot` the running supervisor read for it, not from the file again.
    func settingsFile(allowsOptions: Bool, snapshot: Int32? = nil) throws -> SettingsFile? {
        guard let config else { return nil }
        let read =
            snapshot.map { ConfigurationSnapshot.read($0, limit: Supervisor.configurationLimit) }
            ?? ProcessIO.readFile(config, limit: Supervisor.configurationLimit)
        switch read {
        case .failure(let error):
            throw ValidationError("--config \(MessageText.escaped(config)): cannot be read: \(error.message)")
        case .success(let bytes):
            do throws(SettingsFileError) {
                return try SettingsFile(parsing: bytes, allowsOptions: allowsOptions)
            } catch {
                throw ValidationError("--config \(MessageText.escaped(config)): \(error.message)")
            }
        }
    }

    /// The flags as values of the variables.
    private var flagValues: ConfigurationValues {
        var values = ConfigurationValues()
        for (variable, value) in flags { values[variable] = value.map { Array($0.utf8) } }
        return values
    }

    /// The flags, the environment and the settings file (named `fileName`, `--config` by default), in order.
    func layers(file: ConfigurationValues?, fileName: String? = nil) -> ConfigurationLayers {
        ConfigurationLayers(
            flags: flagValues, environment: ConfigurationValues(ProcessIO.environment), file: file,
            fileName: fileName ?? config ?? "")
    }
}
