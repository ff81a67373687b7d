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

    /// Each variable's value and where it came from: a flag, the environment, the settings file (named
    /// `fileName`, `--config` by default), or nowhere.
    func sources(
        file: ConfigurationValues?, fileName: String? = nil
    ) -> [(variable: String, value: [UInt8]?, source: String)] {
        flags.map { variable, value in
            if let value { return (variable.name, Array(value.utf8), variable.flag) }
            if let value = ProcessIO.environment(variable.name) { return (variable.name, value, "environment") }
            if let value = file?.value(of: variable) {
                return (variable.name, value, "file \(fileName ?? config ?? "")")
            }
            return (variable.name, nil, "unset")
        }
    }

    func values(file: ConfigurationValues?) -> ConfigurationValues {
        let found = Dictionary(uniqueKeysWithValues: sources(file: file).map { ($0.variable, $0.value) })
        return ConfigurationValues { found[$0] ?? nil }
    }

    /// What the workers get in their environment, so that flags and the file reach them as process-level values.
    func workerEnvironment(file: ConfigurationValues?) -> [(String, String)] {
        sources(file: file).compactMap { variable, value, source in
            guard source != "environment", source != "unset", let value else { return nil }
            return (variable, String(decoding: value, as: UTF8.self))
        }
    }
}
