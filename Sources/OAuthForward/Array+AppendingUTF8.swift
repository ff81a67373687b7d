extension [UInt8] {
    /// Appends `text`'s UTF-8 bytes in one copy, for the log line. `bytes += text.utf8` went through the generic
    /// sequence path: in `auto` mode that also made the runtime build metadata on a CGI start, about 18,000
    /// instructions (callgrind, scripts/test-instructions).
    mutating func append(utf8 text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }
}
