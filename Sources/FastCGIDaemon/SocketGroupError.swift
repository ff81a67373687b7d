import OAuthForward

/// Why `--socket-group` names no group. Each message says what works instead.
package enum SocketGroupError: Error, Equatable, Sendable {
    case empty
    /// Digits, but past `GroupFile.maximumID`.
    case idOutOfRange(String)
    /// No usable line of /etc/group names it.
    case unknownName(String)
    /// A name, and /etc/group could not be read to look it up.
    case groupFileUnreadable(name: String, GroupFileError)

    package var message: String {
        let instead = "a numeric id always works"
        return switch self {
        case .empty: "--socket-group is empty; give a group name from \(GroupFile.defaultPath) or a numeric id"
        case .idOutOfRange(let value):
            "--socket-group \(MessageText.escaped(value)) is not a group id: ids are 0 to \(GroupFile.maximumID)"
        case .unknownName(let name):
            "--socket-group \(MessageText.escaped(name)) is not a known group: no line of \(GroupFile.defaultPath) names it, and names "
                + "are read from that file alone, never through NSS; \(instead)"
        case .groupFileUnreadable(let name, let error):
            "--socket-group \(MessageText.escaped(name)) is not a known group: \(error.message); \(instead)"
        }
    }
}
