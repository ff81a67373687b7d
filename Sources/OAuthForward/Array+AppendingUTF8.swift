extension [UInt8] {
    /// Appends `text`'s UTF-8 bytes in one copy, for the log line. `bytes += text.utf8` went through the generic
    /// sequence path: in `auto` mode that also made the runtime build metadata on a CGI start, about 18,000
    /// instructions (callgrind, scripts/test-instructions).
    mutating func append(utf8 text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }

    /// Appends a number's decimal digits, without the `String` that `String(value)` would build.
    mutating func append(decimal value: Int) {
        if value < 0 { append(UInt8(ascii: "-")) }
        let magnitude = value.magnitude
        var divisor: UInt = 1
        while divisor <= magnitude / 10 { divisor *= 10 }
        var rest = magnitude
        while divisor > 0 {
            append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
