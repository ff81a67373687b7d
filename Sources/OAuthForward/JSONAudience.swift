/// Reads the `aud` claim of a JWT payload with a complete JSON parser (RFC 8259): the whole text must be valid
/// JSON, so a token that only looks like it holds `"aud":"..."` somewhere is not read as one.
///
/// Written here rather than taken from Foundation: every CGI request is a process start, and linking Foundation
/// costs each of them, the preset path included. Nesting is bounded so hostile input cannot exhaust the stack.
enum JSONAudience {
    enum Finding: Equatable {
        /// A string `aud` at the top level, decoded.
        case audience([UInt8])
        /// Valid JSON, but no top-level `aud`, or one that is not a single string.
        case noAudience
        /// Not JSON, not an object, or an object naming `aud` twice (two readers could pick different ones).
        case malformed
    }

    static let maximumDepth = 32

    static func read(_ text: [UInt8]) -> Finding {
        guard isValidUTF8(text) else { return .malformed }
        var parser = Parser(bytes: text)
        do {
            guard let audience = try parser.topLevelAudience() else { return .noAudience }
            return .audience(audience)
        } catch {
            return .malformed
        }
    }

    /// Well-formed UTF-8 (RFC 3629, table 3-7 of Unicode): no overlong forms, no surrogates, nothing past
    /// U+10FFFF. Checked here rather than by making a `String`, whose release alone cost a CGI start about 35,000
    /// instructions (callgrind; scripts/test-instructions holds the budget).
    static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let (length, secondRange): (Int, ClosedRange<UInt8>)
            switch lead {
            case 0x00...0x7F:
                index += 1
                continue
            case 0xC2...0xDF: (length, secondRange) = (2, 0x80...0xBF)
            case 0xE0: (length, secondRange) = (3, 0xA0...0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (length, secondRange) = (3, 0x80...0xBF)
            case 0xED: (length, secondRange) = (3, 0x80...0x9F)
            case 0xF0: (length, secondRange) = (4, 0x90...0xBF)
            case 0xF1...0xF3: (length, secondRange) = (4, 0x80...0xBF)
            case 0xF4: (length, secondRange) = (4, 0x80...0x8F)
            default: return false
            }
            guard index + length <= bytes.count, secondRange.contains(bytes[index + 1]) else { return false }
            for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) {
                return false
            }
            index += length
        }
        return true
    }

    private struct Malformed: Error {}

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        /// The top-level object's string `aud`, nil when it has none or a non-string one.
        mutating func topLevelAudience() throws(Malformed) -> [UInt8]? {
            skipWhitespace()
            guard peek() == UInt8(ascii: "{") else { throw Malformed() }
            var audience: [UInt8]? = nil
            var sawAudience = false
            try elements(closedBy: UInt8(ascii: "}")) { parser throws(Malformed) in
                guard try parser.key().elementsEqual("aud".utf8) else {
                    try parser.value(depth: 1)
                    return
                }
                if sawAudience { throw Malformed() }
                sawAudience = true
                if parser.peek() == UInt8(ascii: "\"") {
                    audience = try parser.string()
                } else {
                    try parser.value(depth: 1)
                }
            }
            skipWhitespace()
            guard index == bytes.count else { throw Malformed() }
            return audience
        }

        /// From an opening `{` or `[` to `close`: comma-separated elements, each read by `element`.
        private mutating func elements(
            closedBy close: UInt8, _ element: (inout Parser) throws(Malformed) -> Void
        ) throws(Malformed) {
            index += 1
            skipWhitespace()
            if peek() == close {
                index += 1
                return
            }
            while true {
                skipWhitespace()
                try element(&self)
                skipWhitespace()
                if peek() == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(close)
                return
            }
        }

        /// An object member's name and its colon.
        private mutating func key() throws(Malformed) -> [UInt8] {
            let key = try string()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            return key
        }

        private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

        private mutating func expect(_ byte: UInt8) throws(Malformed) {
            guard peek() == byte else { throw Malformed() }
            index += 1
        }

        private mutating func skipWhitespace() {
            while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        private mutating func value(depth: Int) throws(Malformed) {
            guard depth <= JSONAudience.maximumDepth, let byte = peek() else { throw Malformed() }
            switch byte {
            case UInt8(ascii: "{"):
                try elements(closedBy: UInt8(ascii: "}")) { parser throws(Malformed) in
                    _ = try parser.key()
                    try parser.value(depth: depth + 1)
                }
            case UInt8(ascii: "["):
                try elements(closedBy: UInt8(ascii: "]")) { parser throws(Malformed) in
                    try parser.value(depth: depth + 1)
                }
            case UInt8(ascii: "\""):
                _ = try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default: try number()
            }
        }

        private mutating func literal(_ word: StaticString) throws(Malformed) {
            let length = word.utf8CodeUnitCount
            guard index + length <= bytes.count else { throw Malformed() }
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: length)
            guard bytes[index..<(index + length)].elementsEqual(expected) else { throw Malformed() }
            index += length
        }

        private mutating func digits() -> Int {
            let start = index
            while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
            return index - start
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
        private mutating func number() throws(Malformed) {
            if peek() == UInt8(ascii: "-") { index += 1 }
            if peek() == UInt8(ascii: "0") {
                index += 1
            } else if digits() == 0 {
                throw Malformed()
            }
            if peek() == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw Malformed() }
            }
            if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
                index += 1
                if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw Malformed() }
            }
        }

        /// A string, with its escapes decoded to UTF-8.
        private mutating func string() throws(Malformed) -> [UInt8] {
            try expect(UInt8(ascii: "\""))
            var decoded: [UInt8] = []
            while true {
                guard let byte = peek() else { throw Malformed() }
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return decoded
                case UInt8(ascii: "\\"):
                    guard let escape = peek() else { throw Malformed() }
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                    case UInt8(ascii: "b"): decoded.append(0x08)
                    case UInt8(ascii: "f"): decoded.append(0x0C)
                    case UInt8(ascii: "n"): decoded.append(0x0A)
                    case UInt8(ascii: "r"): decoded.append(0x0D)
                    case UInt8(ascii: "t"): decoded.append(0x09)
                    case UInt8(ascii: "u"): try unicodeEscape(into: &decoded)
                    default: throw Malformed()
                    }
                case 0x00..<0x20:
                    throw Malformed()
                default:
                    decoded.append(byte)
                }
            }
        }

        private mutating func hexQuad() throws(Malformed) -> UInt32 {
            guard index + 4 <= bytes.count else { throw Malformed() }
            var value: UInt32 = 0
            for byte in bytes[index..<(index + 4)] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw Malformed()
                }
                value = value << 4 | UInt32(digit)
            }
            index += 4
            return value
        }

        /// `\uXXXX`, with a surrogate pair joined; a lone surrogate is malformed.
        private mutating func unicodeEscape(into decoded: inout [UInt8]) throws(Malformed) {
            var scalar = try hexQuad()
            if (0xD800...0xDBFF).contains(scalar) {
                try expect(UInt8(ascii: "\\"))
                try expect(UInt8(ascii: "u"))
                let low = try hexQuad()
                guard (0xDC00...0xDFFF).contains(low) else { throw Malformed() }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw Malformed()
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw Malformed() }
            decoded += Array(String(Character(unicode)).utf8)
        }
    }
}
