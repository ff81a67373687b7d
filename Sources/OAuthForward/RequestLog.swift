/// One logfmt line per request. It holds the method, the provider, the status, the target's preset or host, the
/// query's length and, on errors, the reason. Never the query, the code or the state.
public struct RequestLog: Equatable, Sendable {
    /// The method when it is a plain token of up to 16 upper-case letters; `invalid` otherwise, `-` when unset.
    public var method: String
    /// Set only for a path that holds a valid provider name, whatever the answer.
    public var provider: String?
    public var status: Int = 0
    public var target: String?
    public var queryLength: Int
    public var reason: String?
    /// `reachability` for a GET or HEAD without a query; in `auto` mode, `aud_match`, `fallback` or `rejected`.
    public var route: String?
    /// `auto` mode only, when the state did not match: a fixed code such as `foreign_aud`. Never the token.
    public var state: String?
    /// The path ended with the one slash after the provider name that is accepted; logged as `trailing_slash=1`.
    public var trailingSlash = false

    init(request: CGIRequest) {
        self.method = Self.loggableMethod(request.method)
        self.provider = request.pathInfo.flatMap(ProviderSlug.init(pathInfo:))?.name
        self.queryLength = request.query.count
    }

    static func loggableMethod(_ method: [UInt8]?) -> String {
        guard let method else { return "-" }
        let isToken =
            (1...16).contains(method.count)
            && method.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
        return isToken ? String(decoding: method, as: UTF8.self) : "invalid"
    }

    /// Set by the server when the answer could not be written: `stdout` under CGI, `fastcgi` under FastCGI.
    public var writeError: String?

    /// `app=oauth-forward-cgi method=GET provider=oura status=307 target=sandbox-us query_bytes=42`, then
    /// `reason="..."` on errors, and a newline.
    public var line: String {
        var line = LogLine()
        line.add("method", method)
        line.add("provider", provider ?? "-")
        line.add("status", status)
        line.add("target", target ?? "-")
        line.add("query_bytes", queryLength)
        if let route { line.add("route", route) }
        if let state { line.add("state", state) }
        if trailingSlash { line.add("trailing_slash", 1) }
        if let reason { line.add("reason", reason) }
        if let writeError { line.add("write_error", writeError) }
        return line.line
    }
}
