/// Junction's four environments, with the hosts of its current API.
///
/// Source: Junction's "Hosting OAuth callbacks on your own domain" guide (shared/reference).
public enum JunctionEnvironment: String, CaseIterable, Sendable {
    case sandboxUS = "sandbox-us"
    case sandboxEU = "sandbox-eu"
    case productionUS = "production-us"
    case productionEU = "production-eu"

    /// The environment a preset name's bytes name, compared without making a `String`.
    public init?(preset: some Collection<UInt8>) {
        guard let match = Self.allCases.first(where: { $0.rawValue.utf8.elementsEqual(preset) }) else { return nil }
        self = match
    }

    /// The preset name users write in `OAUTH_FORWARD_TARGET`.
    public var presetName: String { rawValue }

    public var host: String {
        switch self {
        case .sandboxUS: "api.sandbox.us.junction.com"
        case .sandboxEU: "api.sandbox.eu.junction.com"
        case .productionUS: "api.us.junction.com"
        case .productionEU: "api.eu.junction.com"
        }
    }

    /// Where Junction takes an OAuth callback, with `{provider}` still to fill in.
    public var callbackTemplate: String { "https://\(host)/v2/link/connect/{provider}" }

    /// The preset names, in the order the documentation lists them.
    public static let presetList = allCases.map(\.presetName).joined(separator: ", ")
}
