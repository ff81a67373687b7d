/// The part of `PATH_INFO` in front of `/{provider}`, for a web server that cannot split the path and sends all of
/// it (H2O's `fastcgi.connect` sends `PATH_INFO=/oauth_callback/oura`). Named by the operator, never guessed: with a
/// prefix, `PATH_INFO` must be exactly the prefix, `/`, a provider name and at most one `/`; anything else is a 404,
/// as without one.
package struct PathPrefix: Equatable, Sendable {
    package static let maximumLength = 255

    /// No prefix: `PATH_INFO` is `/{provider}`.
    package static let none = PathPrefix(validated: [])

    /// The prefix's bytes, all ASCII; empty for `none`.
    package let bytes: [UInt8]

    private init(validated bytes: [UInt8]) { self.bytes = bytes }

    /// Accepts `/` followed by segments of `[A-Za-z0-9._~-]`, with no empty, `.` or `..` segment and no `/` at the
    /// end: the decoded, normalised form a web server compares its locations with.
    package init(parsing value: [UInt8]) throws(PathPrefixError) {
        guard !value.isEmpty else { throw .empty }
        guard value.count <= Self.maximumLength else { throw .tooLong }
        guard value[0] == UInt8(ascii: "/") else { throw .notAbsolute }
        guard value.count > 1, value[value.count - 1] != UInt8(ascii: "/") else { throw .trailingSlash }
        for (index, byte) in value.enumerated() where !Self.isPathByte(byte) {
            throw .invalidByte(position: index + 1)
        }
        for segment in value.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if segment.isEmpty || (segment.count <= 2 && segment.allSatisfy { $0 == UInt8(ascii: ".") }) {
                throw .unnormalisedSegment
            }
        }
        self.bytes = value
    }

    /// The provider `pathInfo` names: after the prefix, exactly `/`, a provider name and at most one `/`.
    package func provider(inPathInfo pathInfo: [UInt8]) -> ProviderSlug? {
        if bytes.isEmpty { return ProviderSlug(pathInfo: pathInfo) }
        guard pathInfo.count > bytes.count else { return nil }
        for index in 0..<bytes.count where pathInfo[index] != bytes[index] { return nil }
        return ProviderSlug(pathInfo: Array(pathInfo[bytes.count...]))
    }

    /// The path the program answers, for `check`'s report: `/oauth_callback/{provider}`, or `/{provider}`.
    package var pattern: String { String(decoding: bytes, as: UTF8.self) + "/{provider}" }

    static func isPathByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }
}
