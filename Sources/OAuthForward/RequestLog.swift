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
    /// `auto` mode only: `aud_match`, `fallback` or `rejected`.
    public var route: String?
    /// `auto` mode only, when the state did not match: a fixed code such as `foreign_aud`. Never the token.
    public var state: String?
    let isHead: Bool

    init(request: CGIRequest) {
        self.method = Self.loggableMethod(request.method)
        self.provider = request.pathInfo.flatMap(ProviderSlug.init(pathInfo:))?.name
        self.queryLength = request.query.count
        self.isHead = request.isHead
    }

    static func loggableMethod(_ method: [UInt8]?) -> String {
        guard let method else { return "-" }
        let isToken =
            (1...16).contains(method.count)
            && method.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
        return isToken ? String(decoding: method, as: UTF8.self) : "invalid"
    }

    /// `app=oauth-forward-cgi method=GET provider=oura status=307 target=sandbox-us query_bytes=42`, then
    /// `reason="..."` on errors, and a newline.
    public var line: String {
        var line = "app=oauth-forward-cgi method=\(method) provider=\(provider ?? "-") status=\(status)"
        line += " target=\(Self.quotedIfNeeded(target ?? "-")) query_bytes=\(queryLength)"
        if let route {
            line += " route=\(route)"
        }
        if let state {
            line += " state=\(state)"
        }
        if let reason {
            line += " reason=\(Self.quotedIfNeeded(reason))"
        }
        return line + "\n"
    }

    /// logfmt quoting: a value with a space, `=`, `"` or a non-printable byte is quoted, with `"` and `\` escaped
    /// and anything outside printable ASCII written as `\xNN`, so one request is always one line.
    public static func quotedIfNeeded(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.utf8.contains { $0 <= 0x20 || $0 >= 0x7F || $0 == 0x3D || $0 == 0x22 }
        guard needsQuotes else { return value }
        var quoted = "\""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                quoted += "\\" + String(UnicodeScalar(byte))
            case 0x20..<0x7F:
                quoted += String(UnicodeScalar(byte))
            default:
                let hex = String(byte, radix: 16)
                quoted += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return quoted + "\""
    }
}
