/// Why a value of `OAUTH_FORWARD_PATH_PREFIX` was refused. Positions count from 1.
package enum PathPrefixError: Error, Equatable, Sendable {
    case empty
    /// It does not start with `/`: `PATH_INFO` always does.
    case notAbsolute
    /// It ends with `/`: the slash before the provider is not part of the prefix.
    case trailingSlash
    /// `//`, or a `.` or `..` segment: web servers normalise those away before they set `PATH_INFO`.
    case unnormalisedSegment
    /// A byte other than a letter, a digit, `-`, `.`, `_`, `~` or `/`.
    case invalidByte(position: Int)
    case tooLong

    package var problem: String {
        switch self {
        case .empty: "is empty"
        case .notAbsolute: "does not start with /"
        case .trailingSlash: "ends with /"
        case .unnormalisedSegment: "holds //, or a . or .. segment"
        case .invalidByte(let position):
            "has a byte at position \(position) that is not a letter, digit, -, ., _, ~ or /"
        case .tooLong: "is longer than \(PathPrefix.maximumLength) bytes"
        }
    }
}
