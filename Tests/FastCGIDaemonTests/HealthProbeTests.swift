import Testing

@testable import FastCGIDaemon

/// A record as the FastCGI specification lays it out, built by hand here, apart from the code under test.
private func record(_ type: UInt8, id: UInt16 = 1, _ content: [UInt8], padding: Int = 0) -> [UInt8] {
    [1, type, UInt8(id >> 8), UInt8(id & 0xFF), UInt8(content.count >> 8), UInt8(content.count & 0xFF)]
        + [UInt8(padding), 0] + content + [UInt8](repeating: 0xEE, count: padding)
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct FastCGIRequestTests {
    /// The records of a stream, as (type, request id, content), checking the padding on the way.
    static func records(_ stream: [UInt8]) -> [(type: UInt8, id: UInt16, content: [UInt8])] {
        var records: [(UInt8, UInt16, [UInt8])] = []
        var offset = 0
        while offset + 8 <= stream.count {
            #expect(stream[offset] == 1)
            let length = Int(stream[offset + 4]) << 8 | Int(stream[offset + 5])
            let padding = Int(stream[offset + 6])
            #expect((length + padding) % 8 == 0, "records are padded to 8 bytes")
            records.append(
                (
                    stream[offset + 1], UInt16(stream[offset + 2]) << 8 | UInt16(stream[offset + 3]),
                    Array(stream[(offset + 8)..<(offset + 8 + length)])
                ))
            offset += 8 + length + padding
        }
        #expect(offset == stream.count)
        return records
    }

    @Test func aRequestIsBeginParamsAnEmptyParamsAndAnEmptyStdin() {
        let stream = FastCGIRequest(parameters: [(bytes("REQUEST_METHOD"), bytes("GET"))]).bytes
        let records = Self.records(stream)
        #expect(records.map(\.type) == [1, 4, 4, 5])
        #expect(records.allSatisfy { $0.id == 1 })
        // The responder role (1), and no FCGI_KEEP_CONN: the daemon closes the connection after its answer.
        #expect(records[0].content == [0, 1, 0, 0, 0, 0, 0, 0])
        #expect(records[1].content == [14, 3] + bytes("REQUEST_METHODGET"))
        #expect(records[2].content.isEmpty && records[3].content.isEmpty)
        #expect(stream.prefix(16) == [1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    }

    /// Below 128 a length takes one byte; from 128 four, big-endian, with the top bit set.
    @Test(arguments: [
        (0, [0]), (127, [127]), (128, [0x80, 0, 0, 128]), (300, [0x80, 0, 1, 44]),
        (70_000, [0x80, 1, 0x11, 0x70]), ((1 << 31) - 1, [0xFF, 0xFF, 0xFF, 0xFF]),
    ])
    func lengthsTakeOneOrFourBytes(count: Int, encoded: [UInt8]) {
        #expect(FastCGIRequest.length(count) == encoded)
    }

    /// A record holds at most 65535 bytes: longer parameters go in several PARAMS records, cut anywhere.
    @Test func longParametersSpanRecords() {
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: 70_000)
        let records = Self.records(FastCGIRequest(parameters: [(bytes("QUERY_STRING"), value)]).bytes)
        #expect(records.map(\.type) == [1, 4, 4, 4, 5])
        #expect(records[1].content.count == 65535)
        #expect(records[1].content + records[2].content == [12, 0x80, 1, 0x11, 0x70] + bytes("QUERY_STRING") + value)
    }
}

@Suite struct FastCGIResponseReaderTests {
    static let answer = bytes("Status: 307 Temporary Redirect\r\nLocation: https://x.example/oura\r\n\r\n")
    static let stream =
        record(6, answer, padding: 3) + record(7, bytes("note")) + record(6, []) + record(3, [0, 0, 0, 7, 0, 0, 0, 0])

    @Test func readsStdoutStderrAndTheEnd() throws {
        var reader = FastCGIResponseReader()
        let response = try reader.read(Self.stream)
        #expect(response == FastCGIResponse(stdout: Self.answer, stderr: bytes("note"), applicationStatus: 7))
    }

    /// Bytes come as the kernel hands them over: the answer is the same wherever a read ends.
    @Test func piecesOfAnySizeMakeTheSameAnswer() throws {
        for size in [1, 2, 3, 7, 8, 9, 64] {
            var reader = FastCGIResponseReader()
            var response: FastCGIResponse?
            var offset = 0
            while offset < Self.stream.count {
                #expect(response == nil, "an answer before the end, in pieces of \(size)")
                response = try reader.read(Self.stream[offset..<min(offset + size, Self.stream.count)])
                offset += size
            }
            #expect(response?.stdout == Self.answer, "pieces of \(size)")
        }
    }

    @Test func anAnswerWithoutItsEndIsNotYetAnAnswer() throws {
        var reader = FastCGIResponseReader()
        #expect(try reader.read(Self.stream.dropLast()) == nil)
    }

    /// A management record (request id 0) is about the connection: it is skipped, not taken for the answer.
    @Test func managementRecordsAreSkipped() throws {
        var reader = FastCGIResponseReader()
        let unknownType = record(11, id: 0, [9, 0, 0, 0, 0, 0, 0, 0])
        #expect(try reader.read(unknownType + Self.stream)?.stdout == Self.answer)
    }

    @Test(arguments: [
        (bytes("HTTP/1.1 400 Bad Request\r\n\r\n"), FastCGIResponseError.notFastCGI(firstByte: 0x48)),
        (record(6, id: 2, bytes("x")), .otherRequest(2)),
        (record(1, [0, 1, 0, 0, 0, 0, 0, 0]), .unexpectedType(1)),
        (record(3, [0, 0, 0, 0]), .shortEndRequest),
    ])
    func refusesWhatIsNotAnAnswer(stream: [UInt8], error: FastCGIResponseError) {
        var reader = FastCGIResponseReader()
        #expect(throws: error) { try reader.read(stream) }
        #expect(!error.message.isEmpty)
    }

    /// A peer that streams without end is cut off, not kept in memory.
    @Test func anEndlessAnswerIsCutOff() throws {
        var reader = FastCGIResponseReader()
        let chunk = record(6, [UInt8](repeating: 0x41, count: 65535), padding: 1)
        for _ in 0...(FastCGIResponseReader.maximumOutput / 65535 + 1) {
            do throws(FastCGIResponseError) {
                _ = try reader.read(chunk)
            } catch {
                #expect(error == .tooLong)
                return
            }
        }
        Issue.record("more than \(FastCGIResponseReader.maximumOutput) bytes were read")
    }
}

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

@Suite struct HealthProbeTests {
    static func parameters(_ request: FastCGIRequest) -> [String: String] {
        Dictionary(
            request.parameters.map {
                (String(decoding: $0.name, as: UTF8.self), String(decoding: $0.value, as: UTF8.self))
            },
            uniquingKeysWith: { first, _ in first })
    }

    /// A GET for the provider with a query of the probe's own: an empty one is a reachability check, answered 200
    /// and not forwarded. An error callback, never a code.
    @Test func sendsAGetForTheProviderWithItsOwnQuery() {
        let sent = Self.parameters(HealthProbe.request(provider: bytes("probe")))
        #expect(sent["REQUEST_METHOD"] == "GET")
        #expect(sent["PATH_INFO"] == "/probe")
        #expect(sent["QUERY_STRING"] == "error=probe&state=probe")
        #expect(sent["REQUEST_URI"] == "/oauth_callback/probe?error=probe&state=probe")
        #expect(sent["DOCUMENT_URI"] == "/oauth_callback/probe")
        #expect(!sent["QUERY_STRING", default: ""].contains("code="))
        #expect(sent.keys.allSatisfy { !$0.hasPrefix("OAUTH_FORWARD_") })
    }

    /// `--param` replaces a parameter of the same name rather than adding a second, which libfcgi would not read.
    @Test func extraParametersReplaceOrAdd() {
        let request = HealthProbe.request(
            provider: bytes("oura"),
            extra: [(bytes("PATH_INFO"), bytes("/fitbit")), (bytes("OAUTH_FORWARD_TARGET"), bytes("sandbox-us"))])
        #expect(request.parameters.filter { $0.name == bytes("PATH_INFO") }.map(\.value) == [bytes("/fitbit")])
        #expect(request.parameters.last.map { $0.name == bytes("OAUTH_FORWARD_TARGET") } == true)
    }

    @Test func only307Passes() {
        let redirect = FastCGIResponse(
            stdout: bytes("Location: https://x/probe?error=probe&state=probe\r\nStatus: 307 Temporary Redirect\r\n\r\n")
        )
        #expect(
            HealthProbe.verdict(on: redirect, after: .microseconds(412)) == .success("307 Temporary Redirect in 0.4 ms")
        )
        let error = FastCGIResponse(stdout: bytes("Status: 500 Internal Server Error\r\n\r\n"))
        let failure = HealthProbe.verdict(on: error, after: .microseconds(1250))
        #expect(failure == .failure(.status(code: 500, line: "500 Internal Server Error in 1.3 ms")))
        let found = FastCGIResponse(stdout: bytes("Location: x\r\n\r\n"))
        #expect(
            HealthProbe.verdict(on: found, after: .zero) == .failure(.status(code: 302, line: "302 Found in 0.0 ms")))
        let overloaded = FastCGIResponse(stdout: Array(redirect.stdout), protocolStatus: 2)
        #expect(HealthProbe.verdict(on: overloaded, after: .zero) == .failure(.refused(protocolStatus: 2)))
        #expect(ProbeFailure.refused(protocolStatus: 2).message.contains("FCGI_OVERLOADED"))
    }

    /// The 200 of a reachability check, and a 307 that lost or changed the query, are not a pass: only a callback
    /// forwarded byte for byte is.
    @Test(arguments: [
        "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nThis is the OAuth callback endpoint for probe.\n",
        "Status: 307 Temporary Redirect\r\n\r\n",
        "Location: https://x/probe\r\nStatus: 307 Temporary Redirect\r\n\r\n",
        "Location: https://x/probe?error=probe&state=prob\r\nStatus: 307 Temporary Redirect\r\n\r\n",
        "Location: https://x/probe?error=probe&state=probe&x=1\r\nStatus: 307 Temporary Redirect\r\n\r\n",
        "Location: https://x/probe&error=probe&state=probe\r\nStatus: 307 Temporary Redirect\r\n\r\n",
        "Status: 307 Temporary Redirect\r\n\r\nLocation: https://x/probe?error=probe&state=probe\r\n",
    ])
    func onlyA307CarryingTheQueryPasses(answer: String) {
        let verdict = HealthProbe.verdict(on: FastCGIResponse(stdout: bytes(answer)), after: .zero)
        #expect((try? verdict.get()) == nil, "\(answer)")
    }

    @Test func aLocationAnyCaseAndSpacedIsRead() {
        let answer = bytes("location:\thttps://x/p?error=probe&state=probe\r\nStatus: 307 Temporary Redirect\r\n\r\n")
        #expect(
            HealthProbe.verdict(on: FastCGIResponse(stdout: answer), after: .zero)
                == .success("307 Temporary Redirect in 0.0 ms"))
        #expect(ProbeFailure.queryNotForwarded(line: "307 x").message.contains("?error=probe&state=probe"))
    }

    /// Each failing status the daemon gives says what to check.
    @Test(arguments: [(404, "--provider"), (400, "auto"), (500, "--param OAUTH_FORWARD_TARGET=")])
    func failingStatusesSayWhatToCheck(code: Int, hint: String) {
        let message = ProbeFailure.status(code: code, line: "\(code) x in 0.1 ms").message
        #expect(message.hasPrefix("\(code) x in 0.1 ms, not 307 Temporary Redirect; "))
        #expect(message.contains(hint))
    }

    @Test(arguments: [
        (Duration.zero, "0.0"), (.microseconds(49), "0.0"), (.microseconds(50), "0.1"), (.microseconds(412), "0.4"),
        (.milliseconds(12), "12.0"), (.seconds(3), "3000.0"),
    ])
    func timesAreMillisecondsToATenth(elapsed: Duration, text: String) {
        #expect(elapsed.millisecondsWithTenths == text)
    }

    @Test func errorsNameTheAddress() {
        let socket = ListenAddress.unix(path: "/run/x.sock")
        let tcp = ListenAddress.ipv4(address: "127.0.0.1", port: 9000)
        #expect(
            HealthProbeError.cannotConnect(socket, code: 2).message
                == "cannot connect to unix:/run/x.sock: No such file or directory")
        #expect(
            HealthProbeError.timedOut(tcp, after: .milliseconds(500)).message
                == "no answer from 127.0.0.1:9000 within 0.5 s")
        #expect(HealthProbeError.closed(tcp).message.contains("--allow-from"))
        #expect(!HealthProbeError.closed(socket).message.contains("--allow-from"))
        #expect(
            HealthProbeError.unreadableAnswer(tcp, .notFastCGI(firstByte: 0x48)).message
                == "127.0.0.1:9000: it does not speak FastCGI (its first byte is 0x48, not 0x01)")
    }
}
