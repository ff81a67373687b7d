/// One CGI request, as the web server describes it. Every field is raw bytes: nothing is decoded or repaired.
public struct CGIRequest: Equatable, Sendable {
    /// `REQUEST_METHOD`; `nil` when unset.
    public var method: [UInt8]?
    /// `PATH_INFO`; `nil` when unset.
    public var pathInfo: [UInt8]?
    /// `QUERY_STRING`, exactly as received; empty when unset.
    public var query: [UInt8]
    /// `FCGI_ROLE` under FastCGI; `nil` under plain CGI.
    public var role: [UInt8]?

    public init(method: [UInt8]?, pathInfo: [UInt8]?, query: [UInt8], role: [UInt8]? = nil) {
        self.method = method
        self.pathInfo = pathInfo
        self.query = query
        self.role = role
    }

    /// A HEAD answer carries no body.
    public var isHead: Bool { method.map { $0.elementsEqual("HEAD".utf8) } ?? false }
}
