/// Why a value of `OAUTH_FORWARD_PROVIDERS` was refused. Positions count from 1.
package enum AllowlistError: Error, Equatable, Sendable {
    case emptyEntry(position: Int)
    case invalidEntry(position: Int)

    package var problem: String {
        switch self {
        case .emptyEntry(let position): "has an empty entry at position \(position)"
        case .invalidEntry(let position): "has an entry at position \(position) that is not a provider name"
        }
    }
}
