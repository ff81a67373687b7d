/// One logfmt line, built a field at a time. The builder quotes each value itself where logfmt needs it (a space,
/// `=`, `"` or a byte outside printable ASCII), with `"` and `\` escaped and other bytes written as `\xNN`, so a
/// line is always one line whatever a value holds. Used for the request line and the daemon's events alike.
public struct LogLine: Sendable {
    private var text = "app=oauth-forward-cgi"

    public init() {}

    /// Adds ` key=value`. Keys are the program's own and never quoted.
    public mutating func add(_ key: String, _ value: String) {
        text += " " + key + "=" + Self.quotedIfNeeded(value)
    }

    public mutating func add(_ key: String, _ value: Int) {
        text += " " + key + "=" + String(value)
    }

    /// The line, with its newline.
    public var line: String { text + "\n" }

    static func quotedIfNeeded(_ value: String) -> String {
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
                quoted += String(decoding: MessageText.hexEscape(byte), as: UTF8.self)
            }
        }
        return quoted + "\""
    }
}
