import OAuthForward

/// The CGI variables a request's answer reads, other than the configuration's.
enum RequestVariable: Int, CaseIterable {
    case method
    case pathInfo
    case query
    case role

    var name: String {
        switch self {
        case .method: "REQUEST_METHOD"
        case .pathInfo: "PATH_INFO"
        case .query: "QUERY_STRING"
        case .role: "FCGI_ROLE"
        }
    }
}

/// The CGI variables the program reads, from whichever source holds them: the process environment under plain
/// CGI, the request's parameters under FastCGI.
enum RequestVariables {
    /// Request bodies are read only to be thrown away; past this much, the rest is left unread.
    static let maximumDiscardedBody = 16 << 20

    static func request(from lookup: (RequestVariable) -> [UInt8]?) -> CGIRequest {
        CGIRequest(
            method: lookup(.method),
            pathInfo: lookup(.pathInfo),
            query: lookup(.query) ?? [],
            role: lookup(.role)
        )
    }

    /// `CONTENT_LENGTH` as a byte count; 0 when unset or not a plain decimal number.
    static func contentLength(from lookup: (String) -> [UInt8]?) -> Int {
        guard let digits = lookup("CONTENT_LENGTH"), !digits.isEmpty, digits.count <= 18,
            digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return 0 }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }
}
