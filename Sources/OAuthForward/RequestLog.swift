/// One logfmt line per request. It holds the method, the provider, the status, the target's preset or host, the
/// query's length and, on errors, the reason. Never the query, the code or the state.
package struct RequestLog: Equatable, Sendable {
    /// The method when it is a plain token of up to 16 upper-case letters; `invalid` otherwise, `-` when unset.
    package var method: String
    /// Set only for a path that holds a valid provider name, whatever the answer.
    package var provider: String? {
        get { Self.optional(providerText) }
        set { providerText = Self.text(newValue) }
    }
    package var status: Int = 0
    package var target: String? {
        get { Self.optional(targetText) }
        set { targetText = Self.text(newValue) }
    }
    package var queryLength: Int
    package var reason: String? {
        get { Self.optional(reasonText) }
        set { reasonText = Self.text(newValue) }
    }
    /// `reachability` for a GET or HEAD without a query; in `auto` mode, `aud_match`, `fallback` or `rejected`.
    package var route: String? {
        get { Self.optional(routeText) }
        set { routeText = Self.text(newValue) }
    }
    /// `auto` mode only, when the state did not match: a fixed code such as `foreign_aud`. Never the token.
    package var state: String? {
        get { Self.optional(stateText) }
        set { stateText = Self.text(newValue) }
    }
    /// The path ended with the one slash after the provider name that is accepted; logged as `trailing_slash=1`.
    package var trailingSlash = false

    // The optional fields are kept as plain Strings, empty when unset (no field is ever set to an empty value). A
    // `String?` stored in the struct went through generic outlined copies and destroys on every assignment, which
    // made the runtime build `Optional<String>`'s metadata on every CGI start: about 35,000 instructions
    // (callgrind, scripts/test-instructions).
    private var providerText = ""
    private var targetText = ""
    private var reasonText = ""
    private var routeText = ""
    private var stateText = ""
    private var writeErrorText = ""

    private static func optional(_ text: String) -> String? {
        if text.isEmpty { return nil }
        return text
    }

    private static func text(_ value: String?) -> String {
        if let value { return value }
        return ""
    }

    /// `provider` is the one the request's path names, if any.
    init(request: CGIRequest, provider: ProviderSlug?) {
        self.method = Self.loggableMethod(request.method)
        if let provider { self.providerText = provider.name }
        self.queryLength = request.query.count
    }

    /// What the log says of a request that is answered, not refused.
    mutating func decided(target: String, route: String? = nil, state: String? = nil, trailingSlash: Bool) {
        targetText = target
        routeText = Self.text(route)
        stateText = Self.text(state)
        self.trailingSlash = trailingSlash
    }

    static func loggableMethod(_ method: [UInt8]?) -> String {
        guard let method else { return "-" }
        let isToken =
            (1...16).contains(method.count)
            && method.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
        return isToken ? String(decoding: method, as: UTF8.self) : "invalid"
    }

    /// Set by the server when the answer could not be written: `stdout` under CGI, `fastcgi` under FastCGI.
    package var writeError: String? {
        get { Self.optional(writeErrorText) }
        set { writeErrorText = Self.text(newValue) }
    }

    /// `app=oauth-forward-cgi method=GET provider=oura status=307 target=sandbox-us query_bytes=42`, then
    /// `reason="..."` on errors, and a newline.
    package var line: String { String(decoding: lineBytes, as: UTF8.self) }

    /// `line` as bytes: what the servers write.
    package var lineBytes: [UInt8] {
        var bytes: [UInt8] = []
        writeLine(into: &bytes)
        return bytes
    }

    /// Puts `lineBytes` in `buffer`, reusing its storage: the daemon keeps one buffer per thread.
    package func writeLine(into buffer: inout [UInt8]) {
        var line = LogLine(reusing: &buffer)
        line.add("method", method)
        line.add("provider", providerText.isEmpty ? "-" : providerText)
        line.add("status", status)
        line.add("target", targetText.isEmpty ? "-" : targetText)
        line.add("query_bytes", queryLength)
        if !routeText.isEmpty { line.add("route", routeText) }
        if !stateText.isEmpty { line.add("state", stateText) }
        if trailingSlash { line.add("trailing_slash", 1) }
        if !reasonText.isEmpty { line.add("reason", reasonText) }
        if !writeErrorText.isEmpty { line.add("write_error", writeErrorText) }
        line.finish(into: &buffer)
    }
}
