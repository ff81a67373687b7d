/// Junction's four environments, with the hosts of its current API.
///
/// Source: Junction's "Hosting OAuth callbacks on your own domain" guide, summed up in docs/JUNCTION.md.
package enum JunctionEnvironment: String, CaseIterable, Sendable {
    case sandboxUS = "sandbox-us"
    case sandboxEU = "sandbox-eu"
    case productionUS = "production-us"
    case productionEU = "production-eu"

    /// The environment a preset name's bytes name, compared without making a `String`.
    package init?(preset: some Collection<UInt8>) {
        guard let match = Self.allCases.first(where: { $0.rawValue.utf8.elementsEqual(preset) }) else { return nil }
        self = match
    }

    /// The preset name users write in `OAUTH_FORWARD_TARGET`.
    package var presetName: String { rawValue }

    package var host: String {
        switch self {
        case .sandboxUS: "api.sandbox.us.junction.com"
        case .sandboxEU: "api.sandbox.eu.junction.com"
        case .productionUS: "api.us.junction.com"
        case .productionEU: "api.eu.junction.com"
        }
    }

    /// Where Junction takes an OAuth callback, up to the provider name.
    package var callbackPrefix: String { String(decoding: callbackPrefixBytes, as: UTF8.self) }

    /// `callbackPrefix` as bytes, appended into one buffer. Interpolated, the longer hosts made the string grow into
    /// a second buffer, and freeing the first made the runtime build `Optional`'s metadata on every CGI start of
    /// those presets, about 40,000 instructions (callgrind, scripts/test-instructions).
    var callbackPrefixBytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        bytes.append(utf8: "https://")
        bytes.append(utf8: host)
        bytes.append(utf8: "/v2/link/connect/")
        return bytes
    }

    /// Where Junction takes an OAuth callback, with `{provider}` still to fill in.
    package var callbackTemplate: String { callbackPrefix + "{provider}" }

    /// The preset names, in the order the documentation lists them.
    package static let presetList = allCases.map(\.presetName).joined(separator: ", ")

    /// The legacy tryvital.io host, which Junction still supports beside the junction.com one.
    package var legacyHost: String {
        switch self {
        case .productionUS: "api.tryvital.io"
        case .productionEU: "api.eu.tryvital.io"
        case .sandboxUS: "api.sandbox.tryvital.io"
        case .sandboxEU: "api.sandbox.eu.tryvital.io"
        }
    }

    /// The Link API base URLs a token of this environment carries as `aud`, in both host forms.
    package var linkAudiences: [[UInt8]] {
        [Array("https://\(host)/v2/link".utf8), Array("https://\(legacyHost)/v2/link".utf8)]
    }

    /// The environment whose Link API base URL is exactly `audience`, in either host form. Compares in place:
    /// building the eight URLs for each request cost a CGI start about 30,000 instructions (callgrind,
    /// scripts/test-instructions).
    package init?(linkAudience audience: [UInt8]) {
        let scheme = "https://".utf8
        let path = "/v2/link".utf8
        guard audience.count > scheme.count + path.count, audience.starts(with: scheme),
            audience.suffix(path.count).elementsEqual(path)
        else { return nil }
        let host = audience[scheme.count..<(audience.count - path.count)]
        guard
            let match = Self.allCases.first(where: {
                host.elementsEqual($0.host.utf8) || host.elementsEqual($0.legacyHost.utf8)
            })
        else { return nil }
        self = match
    }

    /// The environment whose API host, in either form, is `host`, compared without regard to case as host names
    /// are (RFC 3986 section 3.2.2).
    package init?(apiHost host: some StringProtocol) {
        let lowered = host.lowercased()
        guard let match = Self.allCases.first(where: { lowered == $0.host || lowered == $0.legacyHost }) else {
            return nil
        }
        self = match
    }
}
