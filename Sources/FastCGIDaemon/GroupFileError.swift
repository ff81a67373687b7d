/// Why /etc/group could not be read.
package enum GroupFileError: Error, Equatable, Sendable {
    /// open or read failed, with errno.
    case unreadable(path: String, code: Int32)
    /// Larger than `GroupFile.maximumSize`.
    case tooLarge(path: String)

    package var message: String {
        switch self {
        case .unreadable(let path, let code): "cannot read \(path): \(errorText(code))"
        case .tooLarge(let path): "\(path) is larger than \(GroupFile.maximumSize >> 20) MiB"
        }
    }
}
