import Testing

@testable import FastCGIDaemon

@Suite struct CGIStatusLineTests {
    @Test(arguments: [
        ("Status: 307 Temporary Redirect\r\nLocation: https://x/\r\n\r\n", 307, "Temporary Redirect"),
        ("Content-Type: text/plain\r\nstatus:500 Internal Server Error\r\n\r\nbody", 500, "Internal Server Error"),
        ("STATUS: 404 Not Found\n\n", 404, "Not Found"),
        ("Status: 204\r\n\r\n", 204, ""),
        // Without Status: a Location makes a 302, anything else a 200 (RFC 3875, 6.3.3).
        ("Location: https://x/\r\n\r\n", 302, "Found"),
        ("Content-Type: text/plain\r\n\r\nStatus: 307 x\r\n\r\n", 200, "OK"),
    ])
    func readsTheStatus(answer: String, code: Int, reason: String) throws {
        #expect(try CGIStatusLine(parsing: bytes(answer)) == CGIStatusLine(code: code, reason: reason))
    }

    @Test(arguments: [
        ("Status: 307 Temporary Redirect\r\n", FastCGIResponseError.noHeaders), ("", .noHeaders),
        ("Status: abc\r\n\r\n", .malformedStatus), ("Status: 30\r\n\r\n", .malformedStatus),
        ("Status: 3071 x\r\n\r\n", .malformedStatus), ("Status: 099 x\r\n\r\n", .malformedStatus),
        ("Status: 307 \u{1B}[31mred\r\n\r\n", .malformedStatus),  // a terminal escape is never printed
    ])
    func refusesWhatIsNotAStatus(answer: String, error: FastCGIResponseError) {
        #expect(throws: error) { try CGIStatusLine(parsing: bytes(answer)) }
    }
}
