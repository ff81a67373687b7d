/// The statuses this program answers with.
package enum HTTPStatus: Int, Sendable {
    case ok = 200
    case temporaryRedirect = 307
    case badRequest = 400
    case notFound = 404
    case methodNotAllowed = 405
    case internalServerError = 500

    /// nginx sends a bare `HTTP/1.1 307` unless the CGI `Status` header carries the reason phrase.
    package var reasonPhrase: String {
        switch self {
        case .ok: "OK"
        case .temporaryRedirect: "Temporary Redirect"
        case .badRequest: "Bad Request"
        case .notFound: "Not Found"
        case .methodNotAllowed: "Method Not Allowed"
        case .internalServerError: "Internal Server Error"
        }
    }
}
