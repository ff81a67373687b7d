/// A provider name taken from the request path: 1 to 64 of `[a-z0-9_]`, as Junction's slugs are
/// (`oura`, `google_fit`, `dexcom_v3`).
///
/// Only a validated slug ever reaches a header or a log line, so nothing from the path can inject a header,
/// change the target host or smuggle a second path segment.
public struct ProviderSlug: Hashable, Sendable {
    public static let maximumLength = 64

    /// The rule in words, for error messages and log lines.
    public static let rule = "1 to \(maximumLength) of [a-z0-9_]"

    /// The slug's bytes, all ASCII.
    public let bytes: [UInt8]

    /// Accepts exactly `[a-z0-9_]{1,64}`.
    public init?(_ bytes: some Collection<UInt8>) {
        guard (1...Self.maximumLength).contains(bytes.count), bytes.allSatisfy(Self.isSlugByte) else {
            return nil
        }
        self.bytes = Array(bytes)
    }

    /// Reads the provider from a CGI `PATH_INFO`: `/` followed by a slug, and nothing else.
    public init?(pathInfo: [UInt8]) {
        guard pathInfo.first == UInt8(ascii: "/") else { return nil }
        self.init(pathInfo.dropFirst())
    }

    public var name: String { String(decoding: bytes, as: UTF8.self) }

    static func isSlugByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}
