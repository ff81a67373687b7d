import Testing

@testable import FastCGIDaemon

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
