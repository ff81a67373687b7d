/// The variables that configure the program, one row each: the one place the set is written down. Their values
/// (`ConfigurationValues`), the settings file's names, the flags of `serve` and `check`, the help texts, the man page
/// (made from `--help`), `check`'s report and the docs' generated tables all iterate these rows. A new variable is a
/// new case here, its flag in `TargetOptions`, and what it means in `Configuration`.
package enum ConfigurationVariable: Int, CaseIterable, Sendable {
    case target
    case providers
    case environments
    case fallback
    case pathPrefix

    package var name: String {
        switch self {
        case .target: "OAUTH_FORWARD_TARGET"
        case .providers: "OAUTH_FORWARD_PROVIDERS"
        case .environments: "OAUTH_FORWARD_ENVIRONMENTS"
        case .fallback: "OAUTH_FORWARD_FALLBACK"
        case .pathPrefix: "OAUTH_FORWARD_PATH_PREFIX"
        }
    }

    /// Calls `body` with each variable in order. Not `allCases`, an array: building one on a CGI start would make
    /// the runtime build its metadata (scripts/test-instructions holds the budget).
    @inline(__always)
    package static func forEach(_ body: (ConfigurationVariable) throws -> Void) rethrows {
        var index = 0
        while let variable = ConfigurationVariable(rawValue: index) {
            try body(variable)
            index += 1
        }
    }

    /// How many there are, counted as `forEach` walks them.
    package static var count: Int {
        var count = 0
        while case .some = ConfigurationVariable(rawValue: count) { count += 1 }
        return count
    }

    /// The variable whose name `bytes` spell, compared byte by byte without building a String.
    package init?(named bytes: ArraySlice<UInt8>) {
        var index = 0
        while let variable = ConfigurationVariable(rawValue: index) {
            if variable.name.utf8.elementsEqual(bytes) {
                self = variable
                return
            }
            index += 1
        }
        return nil
    }

    /// The flag of `serve` and `check` that sets it for the process, winning over the environment.
    package var flag: String {
        switch self {
        case .target: "--target"
        case .providers: "--providers"
        case .environments: "--environments"
        case .fallback: "--fallback"
        case .pathPrefix: "--path-prefix"
        }
    }

    package var required: String {
        switch self {
        case .target: "yes"
        case .providers: "no"
        case .environments: "with auto"
        case .fallback: "no"
        case .pathPrefix: "no"
        }
    }

    /// What it takes, with code in backticks as the README shows it.
    package var values: String {
        switch self {
        case .target:
            "A preset (" + JunctionEnvironment.allCases.map { "`\($0.presetName)`" }.joined(separator: ", ")
                + "), `auto` (by the state token), or an `https://` URL template with `{provider}`"
        case .providers:
            "Comma-separated provider names to forward, such as `oura,fitbit`; others answer 404"
        case .environments:
            "The environments `auto` forwards Junction tokens to, comma-separated, such as `sandbox-us,production-us`"
        case .fallback:
            "With `auto`: the `https://` URL (`{provider}` allowed) that takes callbacks whose state is not a "
                + "Junction token of those environments; never a Junction API host"
        case .pathPrefix:
            "For a server that sends the whole path as `PATH_INFO` (H2O): the part before `/{provider}`, such as "
                + "`/oauth_callback`. Then only that prefix, `/` and a provider name is forwarded; any other path "
                + "answers 404"
        }
    }

    /// `values` for a terminal.
    package var plainValues: String { values.filter { $0 != "`" } }

    /// Each variable's name, flag and whether it is required on a line, then what it takes, wrapped at `width`
    /// columns: for `--help` and the usage text.
    package static func helpText(width: Int) -> String {
        allCases.map { variable in
            var lines = ["  \(variable.name) (\(variable.flag), required: \(variable.required))"]
            var line = "     "
            for word in variable.plainValues.split(separator: " ") {
                if line.count + 1 + word.count > width {
                    lines.append(line)
                    line = "     "
                }
                line += " " + word
            }
            return (lines + [line]).joined(separator: "\n")
        }
        .joined(separator: "\n")
    }

    /// The configuration table of docs/CONFIGURATION.md.
    package static var markdownTable: String {
        (["| Variable | Flag | Required | Values |", "|----------|------|----------|--------|"]
            + allCases.map { "| `\($0.name)` | `\($0.flag)` | \($0.required) | \($0.values) |" })
            .joined(separator: "\n")
    }
}
