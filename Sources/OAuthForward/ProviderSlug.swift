/// A provider name taken from the request path: 1 to 64 of `[a-z0-9_]`, as Junction's slugs are
/// (`oura`, `google_fit`, `dexcom_v3`).
///
/// Only a validated slug ever reaches a header or a log line, so nothing from the path can inject a header,
/// change the target host or smuggle a second path segment.
package struct ProviderSlug: Hashable, Sendable {
    package static let maximumLength = 64

    /// The rule in words, for error messages and log lines.
    package static let rule = "1 to \(maximumLength) of [a-z0-9_]"

    /// The slug, all ASCII. A `String`: up to 15 bytes (nearly every provider's) it is stored inline, where an
    /// array of its bytes was an allocation, made twice per request.
    package let name: String

    /// The slug's bytes.
    package var bytes: [UInt8] { Array(name.utf8) }

    /// Accepts exactly `[a-z0-9_]{1,64}`.
    package init?(_ bytes: some Collection<UInt8>) {
        guard (1...Self.maximumLength).contains(bytes.count), bytes.allSatisfy(Self.isSlugByte) else {
            return nil
        }
        name = String(decoding: bytes, as: UTF8.self)
    }

    /// Reads the provider from a CGI `PATH_INFO`: `/` followed by a slug and at most one `/`, and nothing else.
    /// Some providers and consoles add the slash to a registered redirect URI; two, or anything after it, are not
    /// a provider.
    package init?(pathInfo: [UInt8]) {
        guard pathInfo.first == UInt8(ascii: "/") else { return nil }
        if Self.hasTrailingSlash(pathInfo) {
            self.init(pathInfo.dropFirst().dropLast())
        } else {
            self.init(pathInfo.dropFirst())
        }
    }

    /// Whether a `PATH_INFO` that names a provider ends with the one slash `init(pathInfo:)` accepts.
    package static func hasTrailingSlash(_ pathInfo: [UInt8]) -> Bool {
        pathInfo.count > 1 && pathInfo[pathInfo.count - 1] == UInt8(ascii: "/")
    }

    static func isSlugByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}
