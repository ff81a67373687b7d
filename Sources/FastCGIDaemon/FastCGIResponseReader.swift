/// Reads an application's records as they arrive, in pieces of any size, until END_REQUEST.
package struct FastCGIResponseReader: Sendable {
    /// A redirect is a few hundred bytes, a few KB with a long query; far more is not this program answering.
    package static let maximumOutput = 1 << 20

    private var buffer: [UInt8] = []
    private var response = FastCGIResponse()

    package init() {}

    /// Takes the next bytes read from the connection; returns the whole response once END_REQUEST has come.
    package mutating func read(_ bytes: some Sequence<UInt8>) throws(FastCGIResponseError) -> FastCGIResponse? {
        buffer += bytes
        let header = FastCGIRecordType.headerLength
        while buffer.count >= header {
            guard buffer[0] == FastCGIRecordType.version else { throw .notFastCGI(firstByte: buffer[0]) }
            let contentLength = Int(buffer[4]) << 8 | Int(buffer[5])
            let recordLength = header + contentLength + Int(buffer[6])
            guard buffer.count >= recordLength else { return nil }
            let requestID = UInt16(buffer[2]) << 8 | UInt16(buffer[3])
            let type = buffer[1]
            let content = buffer[header..<(header + contentLength)]
            // Management records (request id 0) are for the connection, never an answer: left unread.
            if requestID != 0 {
                guard requestID == FastCGIRequest.requestID else { throw .otherRequest(requestID) }
                switch FastCGIRecordType(rawValue: type) {
                case .stdout: response.stdout += content
                case .stderr: response.stderr += content
                case .endRequest:
                    guard contentLength >= 8 else { throw .shortEndRequest }
                    response.applicationStatus = content.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
                    response.protocolStatus = content[content.startIndex + 4]
                    return response
                default: throw .unexpectedType(type)
                }
                guard response.stdout.count + response.stderr.count <= Self.maximumOutput else { throw .tooLong }
            }
            buffer.removeFirst(recordLength)
        }
        return nil
    }
}
