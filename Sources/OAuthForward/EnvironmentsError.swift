/// Why `OAUTH_FORWARD_ENVIRONMENTS` was refused.
package enum EnvironmentsError: Error, Equatable, Sendable {
    case unset
    case invalidEntry(position: Int)
}
