/// One logfmt line, built a field at a time. The builder quotes each value itself where logfmt needs it (a space,
/// `=`, `"` or a byte outside printable ASCII), with `"` and `\` escaped and other bytes written as `\xNN`, so a
/// line is always one line whatever a value holds. Used for the request line and the daemon's events alike.
///
/// The line is built as bytes, in one buffer: appended to a `String`, it grew through several native string
/// buffers, and freeing the first of them made the runtime build `Optional`'s metadata on every CGI start, about
/// 30,000 instructions (callgrind, scripts/test-instructions).
package struct LogLine: Sendable {
    private var text: [UInt8]

    package init() {
        var fresh: [UInt8] = []
        self.init(reusing: &fresh)
    }

    /// A line built in `buffer`'s storage, which it takes and leaves empty; `finish(into:)` gives it back. The
    /// daemon keeps one buffer per thread, and its request lines then allocate nothing.
    package init(reusing buffer: inout [UInt8]) {
        text = []
        swap(&text, &buffer)
        text.removeAll(keepingCapacity: true)
        text.reserveCapacity(192)
        text.append(utf8: "app=oauth-forward-cgi")
    }

    /// Adds ` key=value`. Keys are the program's own and never quoted.
    package mutating func add(_ key: String, _ value: String) {
        text.append(UInt8(ascii: " "))
        text.append(utf8: key)
        text.append(UInt8(ascii: "="))
        Self.appendQuotedIfNeeded(value, to: &text)
    }

    package mutating func add(_ key: String, _ value: Int) {
        text.append(UInt8(ascii: " "))
        text.append(utf8: key)
        text.append(UInt8(ascii: "="))
        text.append(decimal: value)
    }

    /// The line, with its newline.
    package var line: String { String(decoding: bytes, as: UTF8.self) }

    /// The line as bytes, with its newline: what the servers write.
    package var bytes: [UInt8] {
        var bytes = text
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// The line as bytes, with its newline, without a copy.
    package consuming func finished() -> [UInt8] {
        text.append(UInt8(ascii: "\n"))
        return text
    }

    /// Ends the line with its newline and puts it in `buffer`, without a copy.
    package consuming func finish(into buffer: inout [UInt8]) {
        text.append(UInt8(ascii: "\n"))
        swap(&text, &buffer)
    }

    static func quotedIfNeeded(_ value: String) -> String {
        var quoted: [UInt8] = []
        appendQuotedIfNeeded(value, to: &quoted)
        return String(decoding: quoted, as: UTF8.self)
    }

    static func appendQuotedIfNeeded(_ value: String, to text: inout [UInt8]) {
        var value = value
        let plain = value.withUTF8 { bytes in
            // A plain value (nearly all of them) is appended straight from the check's buffer.
            for byte in bytes where byte <= 0x20 || byte >= 0x7F || byte == 0x3D || byte == 0x22 { return false }
            guard !bytes.isEmpty else { return false }
            text.append(contentsOf: bytes)
            return true
        }
        guard !plain else { return }
        text.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                text.append(UInt8(ascii: "\\"))
                text.append(byte)
            case 0x20..<0x7F:
                text.append(byte)
            default:
                text += MessageText.hexEscape(byte)
            }
        }
        text.append(UInt8(ascii: "\""))
    }
}
