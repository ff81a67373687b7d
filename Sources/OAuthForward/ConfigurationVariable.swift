/// The variables that configure the program, one row each. The help texts, the man page (made from `--help`),
/// `check`'s report, the usage text and the README's configuration table are all made from these rows, and a test
/// holds the README to them.
public enum ConfigurationVariable: String, CaseIterable, Sendable {
    case target = "OAUTH_FORWARD_TARGET"
    case providers = "OAUTH_FORWARD_PROVIDERS"
    case environments = "OAUTH_FORWARD_ENVIRONMENTS"
    case fallback = "OAUTH_FORWARD_FALLBACK"
    case pathPrefix = "OAUTH_FORWARD_PATH_PREFIX"

    public var name: String { rawValue }

    /// The flag of `serve` and `check` that sets it for the process, winning over the environment.
    public var flag: String {
        switch self {
        case .target: "--target"
        case .providers: "--providers"
        case .environments: "--environments"
        case .fallback: "--fallback"
        case .pathPrefix: "--path-prefix"
        }
    }

    public var required: String {
        switch self {
        case .target: "yes"
        case .providers: "no"
        case .environments: "with auto"
        case .fallback: "no"
        case .pathPrefix: "no"
        }
    }

    /// What it takes, with code in backticks as the README shows it.
    public var values: String {
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
    public var plainValues: String { values.filter { $0 != "`" } }

    /// Each variable's name, flag and whether it is required on a line, then what it takes, wrapped at `width`
    /// columns: for `--help` and the usage text.
    public static func helpText(width: Int) -> String {
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

    /// The README's configuration table.
    public static var markdownTable: String {
        (["| Variable | Flag | Required | Values |", "|----------|------|----------|--------|"]
            + allCases.map { "| `\($0.name)` | `\($0.flag)` | \($0.required) | \($0.values) |" })
            .joined(separator: "\n")
    }
}
