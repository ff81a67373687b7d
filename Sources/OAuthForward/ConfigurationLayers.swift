/// Where the process-level values come from, in order of precedence: the flags of `serve` and `check`, then the
/// environment, then a settings file. (A request's own parameters win over all three, in `overriding`.) `check`
/// reports each variable with its source, and `serve` hands the workers what came from flags and the file.
package struct ConfigurationLayers: Sendable {
    /// Where one value came from.
    package enum Source: Equatable, Sendable {
        case flag
        case environment
        case file(name: String)
        case unset

        /// As `check` prints it.
        package func description(of variable: ConfigurationVariable) -> String {
            switch self {
            case .flag: variable.flag
            case .environment: "environment"
            case .file(let name): "file \(name)"
            case .unset: "unset"
            }
        }
    }

    /// One variable's value, and where it came from.
    package struct Resolved: Equatable, Sendable {
        package let variable: ConfigurationVariable
        package let value: [UInt8]?
        package let source: Source
    }

    package let flags: ConfigurationValues
    package let environment: ConfigurationValues
    package let file: ConfigurationValues?
    /// The settings file's name, for the report.
    package let fileName: String

    package init(
        flags: ConfigurationValues, environment: ConfigurationValues, file: ConfigurationValues?, fileName: String
    ) {
        self.flags = flags
        self.environment = environment
        self.file = file
        self.fileName = fileName
    }

    /// Each variable, in order, with the value that wins and its source.
    package var resolved: [Resolved] {
        ConfigurationVariable.allCases.map { variable in
            if let value = flags[variable] { return Resolved(variable: variable, value: value, source: .flag) }
            if let value = environment[variable] {
                return Resolved(variable: variable, value: value, source: .environment)
            }
            if let value = file?[variable] {
                return Resolved(variable: variable, value: value, source: .file(name: fileName))
            }
            return Resolved(variable: variable, value: nil, source: .unset)
        }
    }

    /// The values that win.
    package var values: ConfigurationValues {
        var values = ConfigurationValues()
        for entry in resolved { values[entry.variable] = entry.value }
        return values
    }

    /// What a worker needs in its environment beyond the process's own: the values from flags and the file.
    package var workerEnvironment: [(String, String)] {
        resolved.compactMap { entry in
            guard entry.source != .environment, entry.source != .unset, let value = entry.value else { return nil }
            return (entry.variable.name, String(decoding: value, as: UTF8.self))
        }
    }

    /// `check`'s report of them: one `NAME: value (source)` line each, the value's bytes as they are.
    package var report: [UInt8] {
        resolved.flatMap { entry in
            Array("\(entry.variable.name): ".utf8) + (entry.value ?? Array("-".utf8))
                + Array(" (\(entry.source.description(of: entry.variable)))\n".utf8)
        }
    }
}
