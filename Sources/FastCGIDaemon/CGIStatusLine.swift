/// The HTTP status of a CGI answer (RFC 3875, 6.3): its Status header field, or what the absence of one means.
package struct CGIStatusLine: Equatable, Sendable {
    package let code: Int
    package let reason: String

    package init(code: Int, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// Reads the header section of `answer`, up to its empty line (CRLF or LF line ends). Without a Status field,
    /// a Location makes the answer a 302 and anything else a 200, as the RFC says.
    package init(parsing answer: [UInt8]) throws(FastCGIResponseError) {
        var lines: [ArraySlice<UInt8>] = []
        var start = answer.startIndex
        var ended = false
        while let newline = answer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            var line = answer[start..<newline]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            start = newline + 1
            if line.isEmpty {
                ended = true
                break
            }
            lines.append(line)
        }
        guard ended else { throw .noHeaders }
        var status: ArraySlice<UInt8>?
        var hasLocation = false
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = line[..<colon].map { $0 | 0x20 }
            if name.elementsEqual("status".utf8) { status = status ?? line[(colon + 1)...] }
            if name.elementsEqual("location".utf8) { hasLocation = true }
        }
        guard let status else {
            self = hasLocation ? CGIStatusLine(code: 302, reason: "Found") : CGIStatusLine(code: 200, reason: "OK")
            return
        }
        let value = status.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let digits = value.prefix(3)
        let reason = value.dropFirst(3)
        guard digits.count == 3, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            digits.first != UInt8(ascii: "0"), reason.first.map({ $0 == UInt8(ascii: " ") }) ?? true,
            reason.allSatisfy({ (0x20...0x7E).contains($0) || $0 == UInt8(ascii: "\t") })
        else { throw .malformedStatus }
        code = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        self.reason = String(decoding: reason.drop { $0 == UInt8(ascii: " ") }, as: UTF8.self)
    }

    package var description: String { reason.isEmpty ? "\(code)" : "\(code) \(reason)" }
}
