import Testing

@testable import FastCGIDaemon

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
