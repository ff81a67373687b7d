/// One CGI request, as the web server describes it. Every field is raw bytes: nothing is decoded or repaired.
package struct CGIRequest: Equatable, Sendable {
    /// `REQUEST_METHOD`; `nil` when unset.
    package var method: [UInt8]?
    /// `PATH_INFO`; `nil` when unset.
    package var pathInfo: [UInt8]?
    /// `QUERY_STRING`, exactly as received; empty when unset.
    package var query: [UInt8]
    /// `FCGI_ROLE` under FastCGI; `nil` under plain CGI.
    package var role: [UInt8]?

    package init(method: [UInt8]?, pathInfo: [UInt8]?, query: [UInt8], role: [UInt8]? = nil) {
        self.method = method
        self.pathInfo = pathInfo
        self.query = query
        self.role = role
    }

    /// A HEAD answer carries no body.
    package var isHead: Bool { method.map { $0.elementsEqual("HEAD".utf8) } ?? false }
}
